# admin/local.mk: the commands admins run: tern (start/stop/init/setup/...), ternconf,
# ternpasswd, ternqueue (the queue: list, flush, hold, delete, ...) and ternmap (tables).
sbin_PROGRAMS += bin/tern bin/ternconf bin/ternpasswd bin/ternqueue bin/ternmap
bin_tern_SOURCES = admin/tern.c admin/tern_init.c admin/tern_check.c admin/admin.h
bin_tern_LDADD = $(TERN_LIBS)
bin_ternconf_SOURCES = admin/ternconf.c
bin_ternconf_LDADD = $(TERN_LIBS)
bin_ternpasswd_SOURCES = admin/ternpasswd.c
bin_ternpasswd_LDADD = $(TERN_LIBS)
EXTRA_DIST += admin/make-run.sh
bin_ternqueue_SOURCES = admin/ternqueue.c
bin_ternqueue_LDADD = $(TERN_LIBS)
bin_ternmap_SOURCES = admin/ternmap.c
bin_ternmap_LDADD = $(TERN_LIBS)
