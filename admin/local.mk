# admin/local.mk: the commands admins run: tern (start/stop/init/...), ternconf, ternpasswd.
sbin_PROGRAMS += bin/tern bin/ternconf bin/ternpasswd
bin_tern_SOURCES = admin/tern.c admin/tern_init.c admin/tern_check.c admin/admin.h
bin_tern_LDADD = $(TERN_LIBS)
bin_ternconf_SOURCES = admin/ternconf.c
bin_ternconf_LDADD = $(TERN_LIBS)
bin_ternpasswd_SOURCES = admin/ternpasswd.c
bin_ternpasswd_LDADD = $(TERN_LIBS)
EXTRA_DIST += admin/make-run.sh
