# sendmail/local.mk: the sendmail(1) command (also mailq and newaliases by its name) and the
# set-gid terndrop helper that writes its files into maildrop/.
sbin_PROGRAMS += bin/sendmail
bin_sendmail_SOURCES = sendmail/sendmail.c
bin_sendmail_LDADD = $(TERN_LIBS)
pkglibexec_PROGRAMS += libexec/terndrop
libexec_terndrop_SOURCES = sendmail/terndrop.c
libexec_terndrop_LDADD = $(TERN_LIBS)
