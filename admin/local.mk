# admin/local.mk: the commands admins run: tern (start/stop/init/setup/...), ternconf,
# ternpasswd, ternqueue (the queue: list, flush, hold, delete, ...) and ternmap (tables).
sbin_PROGRAMS += bin/tern bin/ternconf bin/ternpasswd bin/ternqueue bin/ternmap
bin_tern_SOURCES = admin/tern.c admin/tern_init.c admin/tern_check.c admin/tern_setup.c \
	admin/admin.h
bin_tern_LDADD = $(TERN_LIBS)
bin_ternconf_SOURCES = admin/ternconf.c
bin_ternconf_LDADD = $(TERN_LIBS)
bin_ternpasswd_SOURCES = admin/ternpasswd.c
bin_ternpasswd_LDADD = $(TERN_LIBS)
EXTRA_DIST += admin/make-run.sh
bin_ternqueue_SOURCES = admin/ternqueue.c admin/ternqueue.h admin/ternqueue_super.c \
	admin/ternqueue_print.c admin/ternqueue_print.h
bin_ternqueue_LDADD = $(TERN_LIBS)
bin_ternmap_SOURCES = admin/ternmap.c
bin_ternmap_LDADD = $(TERN_LIBS)
# ternmap's side of the tables: dict_walk (-s) and dict_build_why (exit codes)
check_PROGRAMS += tests/unit/test_dict_walk
TESTS += tests/unit/test_dict_walk
tests_unit_test_dict_walk_SOURCES = tests/unit/test_dict_walk.c
EXTRA_DIST += tests/integration/test_ternmap.py
dist_man_MANS += docs/ternmap.1 docs/aliases.5
