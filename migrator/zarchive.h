/*
 * Archives of retired mailboxes: a pax tar compressed with zstd, written
 * and read with libarchive. Entries keep mode, owner, nanosecond mtimes and
 * symlinks. Extraction places every entry below the destination: the first
 * component of each path is replaced by the new name, and ".." inside a
 * path, writing through a symlink, or hard links out are refused.
 */
#ifndef MAILSHIFT_ZARCHIVE_H
#define MAILSHIFT_ZARCHIVE_H

#include <stdint.h>

/*
 * Write the tree parent/name to the file out (through a temporary name,
 * fsynced), entries named "name/...". Returns 0 or -1 with a cause.
 */
int zarchive_tree(int parent, const char *name, const char *out,
    uint64_t *files, uint64_t *bytes, char **cause);
/*
 * Read archive back and compare every entry with the tree parent/name:
 * the same set of names, types, sizes, modes, mtimes and contents.
 */
int zarchive_verify(const char *archive, int parent, const char *name,
    char **cause);
/*
 * Extract archive below directory dest (which must exist); the archive's
 * top directory is renamed to as_name. Owners are restored when root.
 */
int zarchive_extract(const char *archive, const char *dest,
    const char *as_name, char **cause);

#endif
