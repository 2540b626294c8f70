# The shape of the source tree, checked like behaviour: dependencies point
# one way (DESIGN.md section 2), no two modules include each other in a
# circle, only state/ speaks SQL, the symlink-safe directory flags and
# the path walk have one home, and no file grows past the size a reader
# can hold. Reads the tree; runs no binary.
. "$(dirname "$0")/lib.sh"

TOP=$(cd "$TESTLIB/../.." && pwd)

# Run the check named $1 of layers.py.
check() {
	python3 "$TESTLIB/layers.py" "$TOP" "$1" || fail "$1"
}

t_direction() { check direction; }
t_cycles() { check cycles; }
t_sql() { check sql; }
t_one_home() { check one-home; }
t_sizes() { check sizes; }

t "includes point one way: cli -> migrator, planner, state -> common" \
    t_direction
t "no include circles between modules" t_cycles
t "only state/ includes sqlite3.h and libpq-fe.h" t_sql
t "TREE_DIR_FLAGS and the path walk are defined once, in migrator/tree" \
    t_one_home
t "no source or test file over 950 lines" t_sizes
done_testing
