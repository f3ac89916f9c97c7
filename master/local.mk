# master/local.mk: the root supervisor, installed as $(pkglibexecdir)/master, and its man pages
# (master(8), master.conf(5)).
pkglibexec_PROGRAMS += libexec/master
libexec_master_SOURCES = master/master.c master/master.h master/service.c master/spawn.c \
	master/notify.c
libexec_master_LDADD = $(TERN_LIBS)
dist_man_MANS += docs/master.8 docs/master.conf.5
EXTRA_DIST += tests/integration/test_master.py
