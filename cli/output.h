/* Aligned text tables for listings on a terminal. */
#ifndef MAILSHIFT_OUTPUT_H
#define MAILSHIFT_OUTPUT_H

#include <stdint.h>
#include <stdio.h>

#include "common/json.h"

struct table;

/*
 * A table of ncols columns; align has one letter per column, 'l' or 'r'.
 * headers are upper-case names printed as the first row.
 */
struct table *table_new(int ncols, const char *const *headers,
    const char *align);
/* Add a row of ncols strings (copied; NULL prints as "-"). */
void table_add(struct table *, const char *const *cells);
/* Print the rows with columns padded to their widest cell, and free. */
void table_print(struct table *, FILE *);
void table_free(struct table *);

/* A listing printed as a table, or as a JSON array with --json. */
struct listing {
	int		 json;
	struct json	 j;
	struct table	*t;
};
void listing_start(struct listing *, int json, int ncols,
    const char *const *headers, const char *align);
/* Print what was collected (table) or close the array (JSON). */
void listing_end(struct listing *);
/* Drop a listing after an error. */
void listing_abort(struct listing *);

/* Print "key: value" lines with keys aligned (for 'show' commands). */
void kv_print(FILE *, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Fill % of used over capacity, "12.3%". */
const char *fill_format(uint64_t used, uint64_t capacity, char *, size_t);

#endif
