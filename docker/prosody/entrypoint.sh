#!/bin/sh
# Register the accounts in $PROSODY_USERS ("user@host:password user2@host:password2"), then
# run Prosody in the foreground. Registering again only resets the password.
set -eu
for entry in ${PROSODY_USERS:-}; do
    jid=${entry%%:*}
    prosodyctl --config /etc/prosody/prosody.cfg.lua register "${jid%@*}" "${jid#*@}" "${entry#*:}"
done
exec prosody -F --config /etc/prosody/prosody.cfg.lua
