# master/local.mk: the root supervisor, installed as $(pkglibexecdir)/master.
pkglibexec_PROGRAMS += libexec/master
libexec_master_SOURCES = master/master.c master/master.h master/service.c master/spawn.c \
	master/notify.c
libexec_master_LDADD = $(TERN_LIBS)
