# tests/local.mk: `make check` = unit tests of common/ (Check) + integration tests (pytest).
UNIT_TESTS = tests/unit/test_buf tests/unit/test_config tests/unit/test_master_conf \
	tests/unit/test_ipc tests/unit/test_dict tests/unit/test_safefile tests/unit/test_log
check_PROGRAMS += $(UNIT_TESTS) tests/testd
UNIT_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
UNIT_LDADD = $(TERN_LIBS) $(CHECK_LIBS)
tests_unit_test_buf_SOURCES = tests/unit/test_buf.c
tests_unit_test_buf_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_buf_LDADD = $(UNIT_LDADD)
tests_unit_test_config_SOURCES = tests/unit/test_config.c
tests_unit_test_config_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_config_LDADD = $(UNIT_LDADD)
tests_unit_test_master_conf_SOURCES = tests/unit/test_master_conf.c
tests_unit_test_master_conf_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_master_conf_LDADD = $(UNIT_LDADD)
tests_unit_test_ipc_SOURCES = tests/unit/test_ipc.c
tests_unit_test_ipc_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_ipc_LDADD = $(UNIT_LDADD)
tests_unit_test_dict_SOURCES = tests/unit/test_dict.c
tests_unit_test_dict_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_dict_LDADD = $(UNIT_LDADD)
tests_unit_test_safefile_SOURCES = tests/unit/test_safefile.c
tests_unit_test_safefile_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_safefile_LDADD = $(UNIT_LDADD)
tests_unit_test_log_SOURCES = tests/unit/test_log.c
tests_unit_test_log_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_log_LDADD = $(UNIT_LDADD)
# testd: a tiny service on the server skeleton, used by the integration tests to exercise the
# master (it answers each connection with its service name, uid and a configuration value).
tests_testd_SOURCES = tests/testd.c
tests_testd_LDADD = $(TERN_LIBS)

TESTS += $(UNIT_TESTS) tests/integration/run-pytest
AM_TESTS_ENVIRONMENT = TERN_BUILDDIR='$(abs_top_builddir)' TERN_SRCDIR='$(abs_top_srcdir)' \
	PYTHON3='$(PYTHON3)'; export TERN_BUILDDIR TERN_SRCDIR PYTHON3;
EXTRA_DIST += tests/integration/run-pytest tests/integration/conftest.py \
	tests/integration/test_master.py tests/integration/test_commands.py \
	tests/unit/data
CLEANFILES += tests/integration/*.pyc
