"""The layer check (tests/check-layers) on the source tree, and on copies of it with one
boundary broken each way it guards: it must pass on the tree and name each breach."""
import os
import shutil
import subprocess

import pytest

SRCDIR = os.environ.get("TERN_SRCDIR",
                        os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
CHECK = os.path.join(SRCDIR, "tests", "check-layers")


def run_check(root):
    r = subprocess.run(["/usr/bin/python3", CHECK, "--root", str(root)], capture_output=True,
                       text=True, timeout=60, env={k: v for k, v in os.environ.items()
                                                   if k != "TERN_SRCDIR"})
    return r.returncode, r.stdout + r.stderr


def copy_tree(dst):
    """The sources and makefile fragments of the tree, as the check reads them."""
    def ignore(folder, names):
        return [n for n in names if n.startswith(".") or n in ("bench", "autom4te.cache")
                or (os.path.isfile(os.path.join(folder, n))
                    and not n.endswith((".c", ".h", ".def", ".mk", ".am")))]
    shutil.copytree(SRCDIR, dst, ignore=ignore)
    return dst


def edit(path, old, new):
    with open(path) as f:
        text = f.read()
    assert old in text, f"{old!r} not in {path}"
    with open(path, "w") as f:
        f.write(text.replace(old, new, 1))


def test_the_tree_keeps_its_layers():
    rc, out = run_check(SRCDIR)
    assert rc == 0, out
    assert out.strip().endswith("clean")


BREACHES = [
    # (file, old text, new text, what the check must say)
    ("common/buf.c", '#include "buf.h"', '#include "buf.h"\n#include "qfile.h"',
     'common/buf.c:', 'includes "qfile.h", which common/ may not use'),
    ("queue/qdir.c", '#include "qdir.h"', '#include "qdir.h"\n#include "smtp_parse.h"',
     'queue/qdir.c:', 'includes "smtp_parse.h", which queue/ may not use'),
    ("delivery/smtp/smtp.c", '#include "smtp.h"',
     '#include "smtp.h"\n#include "../../pickup/header_edit.h"',
     'delivery/smtp/smtp.c:', 'of pickup/, which delivery/smtp/ may not use'),
    ("common/mem.c", '#include "mem.h"', '#include "mem.h"\n#include <address.h>',
     'common/mem.c:', 'includes "address.h" of mail/, which common/ may not use'),
    ("qmgr/local.mk", "qmgr/flush.c", "qmgr/flush.c $(top_srcdir)/smtpd/policy.c",
     'qmgr/local.mk:', 'compiles smtpd/policy.c, a source of smtpd/'),
    ("pickup/local.mk", "dist_man_MANS", "AM_CPPFLAGS += -I$(top_srcdir)/pickup\ndist_man_MANS",
     'pickup/local.mk:', 'sets AM_CPPFLAGS for every target'),
    ("showq/local.mk", "showq/showq.c", "showq/showq.c qmgr/scan.c",
     'showq/local.mk:', 'compiles qmgr/scan.c, a source of qmgr/'),
    ("smtpd/local.mk", "-I$(top_srcdir)/smtpd", "-I$(top_srcdir)/smtpd -I$(top_srcdir)/qmgr",
     'smtpd/local.mk:', 'adds -I qmgr'),
    ("Makefile.am", "-I$(top_srcdir)/mail", "-I$(top_srcdir)/mail -I$(top_srcdir)/smtpd",
     'Makefile.am:', 'AM_CPPFLAGS adds -I $(top_srcdir)/smtpd'),
]


@pytest.mark.parametrize("path,old,new,where,what", BREACHES,
                         ids=[b[0] + ":" + b[4][:20] for b in BREACHES])
def test_a_broken_boundary_fails_the_check(tmp_path, path, old, new, where, what):
    root = copy_tree(tmp_path / "tree")
    edit(root / path, old, new)
    rc, out = run_check(root)
    assert rc == 1, out
    breach = [line for line in out.splitlines() if line.startswith(where)]
    assert breach and what.replace("$(top_srcdir)/", "") in breach[0], out


def test_a_program_header_may_not_shadow_a_library_header(tmp_path):
    root = copy_tree(tmp_path / "tree")
    shutil.copy(root / "mail" / "maildir.h", root / "delivery" / "local" / "maildir.h")
    rc, out = run_check(root)
    assert rc == 1, out
    assert "mail/maildir.h:1: the library header name maildir.h is also used by " \
           "delivery/local/maildir.h" in out
