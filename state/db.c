/* The statement interface: which driver a catalog name calls for. */
#include "state/db.h"

#include <string.h>

enum db_engine
db_engine_of(const char *target)
{
	const char *p;

	if (strncmp(target, "postgresql://", 13) == 0 ||
	    strncmp(target, "postgres://", 11) == 0)
		return DB_PGSQL;
	/* A libpq conninfo starts with a keyword and '='; a file whose name
	 * looks like that can be given as ./name. */
	p = target;
	while ((*p >= 'a' && *p <= 'z') || *p == '_')
		p++;
	return p > target && *p == '=' ? DB_PGSQL : DB_SQLITE;
}

struct db *
db_open(const char *target, int create, char **cause)
{
	const struct db_driver *drv = db_engine_of(target) == DB_PGSQL ?
	    &db_pgsql_driver : &db_sqlite_driver;

	return drv->open(target, create, cause);
}
