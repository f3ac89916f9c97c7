# tests/local.mk: `make check` = unit tests of common/ (Check) + integration tests (pytest).
# Each unit test is tests/unit/test_NAME.c (automake's default source), linked by the default
# LDADD below; testd is a tiny service on the server skeleton that the integration tests use to
# exercise the master (it answers each connection with its service name, uid and a setting).
UNIT_TESTS = tests/unit/test_buf tests/unit/test_config tests/unit/test_master_conf \
	tests/unit/test_ipc tests/unit/test_dict tests/unit/test_safefile tests/unit/test_log \
	tests/unit/test_priv tests/unit/test_qdir tests/unit/test_mem tests/unit/test_server \
	tests/unit/test_workpool tests/unit/test_netmatch tests/unit/test_qfile \
	tests/unit/test_smtp_parse tests/unit/test_policy tests/unit/test_auth tests/unit/test_data \
	tests/unit/test_maildir tests/unit/test_statuslog tests/unit/test_dsn tests/unit/test_resolve \
	tests/unit/test_valias tests/unit/test_delivery_proto
check_PROGRAMS += $(UNIT_TESTS) tests/testd
LDADD = $(TERN_LIBS) $(CHECK_LIBS)
# the smtpd unit tests link the smtpd sources they test
tests_unit_test_smtp_parse_SOURCES = tests/unit/test_smtp_parse.c smtpd/smtp_parse.c
tests_unit_test_policy_SOURCES = tests/unit/test_policy.c smtpd/policy.c smtpd/smtp_parse.c
tests_unit_test_auth_SOURCES = tests/unit/test_auth.c smtpd/auth.c smtpd/tls.c
tests_unit_test_data_SOURCES = tests/unit/test_data.c smtpd/data.c
# the local delivery agent's Maildir writer
tests_unit_test_maildir_SOURCES = tests/unit/test_maildir.c delivery/local/maildir.c \
	delivery/local/maildir.h
# the bounce service's notice text, the queue manager's resolver and virtual alias expansion
tests_unit_test_dsn_SOURCES = tests/unit/test_dsn.c delivery/bounce/dsn.c delivery/bounce/dsn.h
tests_unit_test_resolve_SOURCES = tests/unit/test_resolve.c qmgr/resolve.c qmgr/resolve.h
tests_unit_test_valias_SOURCES = tests/unit/test_valias.c qmgr/valias.c qmgr/qmgr.h
AM_CPPFLAGS += -I$(top_srcdir)/smtpd -I$(top_srcdir)/delivery/local \
	-I$(top_srcdir)/delivery/bounce -I$(top_srcdir)/qmgr
AM_CFLAGS += $(CHECK_CFLAGS)

TESTS += $(UNIT_TESTS) tests/fuzz/run-fuzz tests/integration/run-pytest
AM_TESTS_ENVIRONMENT = TERN_BUILDDIR='$(abs_top_builddir)' TERN_SRCDIR='$(abs_top_srcdir)' \
	PYTHON3='$(PYTHON3)'; export TERN_BUILDDIR TERN_SRCDIR PYTHON3;
EXTRA_DIST += tests/integration/run-pytest tests/integration/conftest.py \
	tests/integration/test_master.py tests/integration/test_commands.py \
	tests/integration/test_smtpd.py tests/integration/test_qmgr.py \
	tests/integration/test_delivery.py tests/integration/test_smtp.py \
	tests/integration/smtpserver.py tests/fuzz tests/unit/unit.h
# the fuzz runner builds its targets itself (with clang's libFuzzer when there is one)
CLEANFILES += tests/fuzz/fuzz_command tests/fuzz/fuzz_path tests/fuzz/fuzz_params \
	tests/fuzz/fuzz_command-replay tests/fuzz/fuzz_path-replay tests/fuzz/fuzz_params-replay
