#!/bin/sh
# Write the accounts in $DOVECOT_USERS ("user@host:password ...") to the passwd-file, then
# run Dovecot in the foreground.
set -eu
: > /etc/dovecot/hub-users
for entry in ${DOVECOT_USERS:-}; do
    printf '%s:{PLAIN}%s\n' "${entry%%:*}" "${entry#*:}" >> /etc/dovecot/hub-users
done
chmod 640 /etc/dovecot/hub-users
chgrp dovecot /etc/dovecot/hub-users
exec dovecot -F -c /etc/dovecot/hub.conf
