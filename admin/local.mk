# admin/local.mk: the commands admins run: tern (start/stop/init/setup/...), ternconf,
# ternpasswd, ternqueue (the queue: list, flush, hold, delete, ...) and ternmap (tables); their
# man pages, and the unit test of ternqueue's listing formats.
sbin_PROGRAMS += bin/tern bin/ternconf bin/ternpasswd bin/ternqueue bin/ternmap
bin_tern_SOURCES = admin/tern.c admin/tern_init.c admin/tern_check.c admin/tern_setup.c \
	admin/tern_dkim.c admin/admin.h
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
dist_man_MANS += docs/tern.8 docs/ternconf.1 docs/ternpasswd.1 docs/tern.conf.5 \
	docs/ternqueue.1 docs/ternmap.1 docs/aliases.5
EXTRA_DIST += tests/integration/test_commands.py tests/integration/test_ternmap.py \
	tests/integration/test_ternqueue.py tests/integration/test_dkim_signing.py

# the queue listing (queue/qlist.c) as ternqueue prints it (ternqueue_print.c)
check_PROGRAMS += tests/unit/test_qlist
TESTS += tests/unit/test_qlist
tests_unit_test_qlist_SOURCES = tests/unit/test_qlist.c admin/ternqueue_print.c \
	admin/ternqueue_print.h
tests_unit_test_qlist_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/admin
