# qmgr/local.mk: the queue manager, installed as $(pkglibexecdir)/qmgr.
pkglibexec_PROGRAMS += libexec/qmgr
libexec_qmgr_SOURCES = qmgr/qmgr.c qmgr/qmgr.h qmgr/scan.c qmgr/message.c qmgr/schedule.c \
	qmgr/call.c qmgr/forward.c qmgr/valias.c qmgr/resolve.c qmgr/resolve.h \
	qmgr/admin.c qmgr/flush.c \
	smtpd/smtp_parse.c smtpd/smtp_parse.h
libexec_qmgr_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/smtpd
libexec_qmgr_LDADD = $(TERN_LIBS)
dist_man_MANS += docs/qmgr.8
