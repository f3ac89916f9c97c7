# showq/local.mk: the queue listing service (public/showq), installed as $(pkglibexecdir)/showq.
pkglibexec_PROGRAMS += libexec/showq
libexec_showq_SOURCES = showq/showq.c
libexec_showq_LDADD = $(TERN_LIBS)
