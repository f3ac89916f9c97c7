#!/bin/sh
# make-run.sh: `make run`: runs tern in the foreground from ./run in the build tree (made with
# `tern init` when missing), on 127.0.0.1:2525, logging to the terminal; Ctrl-C stops it.
set -eu
top="$1"
tern="$top/bin/tern"
[ -f "$top/run/tern.conf" ] || "$tern" init "$top/run" --smtp-port 2525
missing=""
for program in smtpd qmgr pickup local virtual smtp bounce; do
    [ -x "$top/libexec/$program" ] || missing="$missing $program"
done
if [ -n "$missing" ]; then
    echo "make run: not built yet:$missing -- their services stay commented out in run/master.conf,"
    echo "make run: so the master runs with the services that exist (see run/master.conf)."
fi
echo "make run: tern from $top/run, SMTP on 127.0.0.1:2525 (when smtpd exists); Ctrl-C stops it."
exec "$tern" -c "$top/run" -o maillog_file=/dev/stdout start-fg
