/* Symlink-safe opens below a slice root (placeholder until the tree module lands). */
#ifndef MAILSHIFT_MIGRATOR_TREE_H
#define MAILSHIFT_MIGRATOR_TREE_H

#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>

#define TREE_DIR_FLAGS	(O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

int tree_open_below(int root, const char *path, char **cause);
int tree_make_below(int root, const char *path, const struct stat *like,
    int *created, char **cause);
int tree_exists_below(int root, const char *path);

#endif
