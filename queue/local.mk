# queue/local.mk: the queue library (queue/libternqueue.a): the queue directory rules, the queue
# file format (the record codec, one envelope writer, one reader; xtext), spare files, the
# commit of a new file, the status logs, maildrop/ files, the listing and the admin actions;
# and its unit tests.
noinst_LIBRARIES += queue/libternqueue.a
queue_libternqueue_a_SOURCES = \
	queue/qdir.c queue/qdir.h \
	queue/qrecord.c queue/qrecord.h \
	queue/qfile.c queue/qfile.h \
	queue/qparse.c \
	queue/qenvelope.c queue/qenvelope.h \
	queue/xtext.c queue/xtext.h \
	queue/qspare.c queue/qspare.h \
	queue/qcommit.c queue/qcommit.h \
	queue/statuslog.c queue/statuslog.h \
	queue/maildrop.c queue/maildrop.h \
	queue/qlist.c queue/qlist.h \
	queue/qadmin.c queue/qadmin.h

QUEUE_UNIT_TESTS = tests/unit/test_qdir tests/unit/test_qfile tests/unit/test_statuslog \
	tests/unit/test_maildrop tests/unit/test_qadmin tests/unit/test_qenvelope tests/unit/test_xtext
check_PROGRAMS += $(QUEUE_UNIT_TESTS)
TESTS += $(QUEUE_UNIT_TESTS)
