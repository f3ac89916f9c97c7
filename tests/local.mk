# tests/local.mk: what `make check` runs besides the unit tests, which each folder registers in
# its own local.mk (tests/unit/test_NAME.c, automake's default source, linked by the default
# LDADD below): the layer check (tests/check-layers), the fuzz targets (tests/fuzz/run-fuzz)
# and the integration tests (pytest: tests/integration/run-pytest). testd is a tiny service on
# the server skeleton that the integration tests use to exercise the master (it answers each
# connection with its service name, uid and a setting).
check_PROGRAMS += tests/testd
# spfquery: SPF checks over the resolver, for the RFC 7208 suite
# (tests/integration/test_spf_suite.py)
check_PROGRAMS += tests/spfquery
tests_spfquery_SOURCES = tests/spfquery.c
tests_spfquery_LDADD = $(TERN_LIBS)
# dkimtool: the DKIM library as a command, for tests/integration/test_dkim_lib.py
check_PROGRAMS += tests/dkimtool
tests_dkimtool_SOURCES = tests/dkimtool.c
tests_dkimtool_LDADD = $(TERN_LIBS)
LDADD = $(TERN_LIBS) $(CHECK_LIBS)
AM_CFLAGS += $(CHECK_CFLAGS)

TESTS += tests/check-layers tests/fuzz/run-fuzz tests/integration/run-pytest
AM_TESTS_ENVIRONMENT = TERN_BUILDDIR='$(abs_top_builddir)' TERN_SRCDIR='$(abs_top_srcdir)' \
	PYTHON3='$(PYTHON3)'; export TERN_BUILDDIR TERN_SRCDIR PYTHON3;
EXTRA_DIST += tests/check-layers tests/fresh-root.sh tests/integration/run-pytest \
	tests/integration/conftest.py \
	tests/integration/test_delivery.py tests/integration/test_layers.py \
	tests/integration/smtpserver.py tests/fuzz tests/unit/unit.h \
	tests/integration/test_spf_suite.py
# the fuzz runner builds its targets itself (with clang's libFuzzer when there is one)
CLEANFILES += tests/fuzz/fuzz_command tests/fuzz/fuzz_path tests/fuzz/fuzz_params \
	tests/fuzz/fuzz_command-replay tests/fuzz/fuzz_path-replay tests/fuzz/fuzz_params-replay \
	tests/fuzz/fuzz_header tests/fuzz/fuzz_header-replay \
	tests/fuzz/fuzz_address tests/fuzz/fuzz_address-replay \
	tests/fuzz/fuzz_qrecord tests/fuzz/fuzz_qrecord-replay \
	tests/fuzz/fuzz_spf_record tests/fuzz/fuzz_spf_record-replay \
	tests/fuzz/fuzz_spf_macro tests/fuzz/fuzz_spf_macro-replay \
	tests/fuzz/fuzz_dkim_sig tests/fuzz/fuzz_dkim_sig-replay \
	tests/fuzz/fuzz_dkim_key tests/fuzz/fuzz_dkim_key-replay \
	tests/fuzz/fuzz_dkim_body tests/fuzz/fuzz_dkim_body-replay \
	tests/fuzz/fuzz_downgrade tests/fuzz/fuzz_downgrade-replay \
	tests/fuzz/fuzz_dmarc_record tests/fuzz/fuzz_dmarc_record-replay \
	tests/fuzz/fuzz_auth_results tests/fuzz/fuzz_auth_results-replay \
	tests/fuzz/fuzz_srs tests/fuzz/fuzz_srs-replay \
	tests/fuzz/fuzz_dkim_signing tests/fuzz/fuzz_dkim_signing-replay
