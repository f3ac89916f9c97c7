# pickup/local.mk: the pickup service (maildrop/ -> incoming/), installed as
# $(pkglibexecdir)/pickup.
pkglibexec_PROGRAMS += libexec/pickup
libexec_pickup_SOURCES = pickup/pickup.c
libexec_pickup_LDADD = $(TERN_LIBS)
