# showq/local.mk: the queue listing service (public/showq), installed as $(pkglibexecdir)/showq,
# and its man page. ternqueue, which asks it, is admin/'s.
pkglibexec_PROGRAMS += libexec/showq
libexec_showq_SOURCES = showq/showq.c
libexec_showq_LDADD = $(TERN_LIBS)
dist_man_MANS += docs/showq.8
