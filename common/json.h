/*
 * A streaming JSON writer: values go straight to a FILE, so listings of a
 * million accounts need no memory. Keys are given for members of objects
 * and NULL for elements of arrays. Strings are escaped per RFC 8259.
 */
#ifndef MAILSHIFT_JSON_H
#define MAILSHIFT_JSON_H

#include <stdint.h>
#include <stdio.h>

#define JSON_DEPTH 32

struct json {
	FILE	*f;
	int	 depth;
	int	 count[JSON_DEPTH];	/* values written at each level */
};

void json_init(struct json *, FILE *);
void json_object_open(struct json *, const char *key);
void json_object_close(struct json *);
void json_array_open(struct json *, const char *key);
void json_array_close(struct json *);
/* A string value; NULL writes null. */
void json_string(struct json *, const char *key, const char *value);
void json_int(struct json *, const char *key, int64_t);
void json_uint(struct json *, const char *key, uint64_t);
void json_double(struct json *, const char *key, double);
void json_bool(struct json *, const char *key, int);
void json_null(struct json *, const char *key);
/* Write s as a quoted, escaped JSON string. */
void json_quote(FILE *, const char *s);
/* End the document with a newline. */
void json_end(struct json *);

#endif
