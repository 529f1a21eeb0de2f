-- Prosody 0.12 for development inside docker compose: no TLS, plain c2s on 5222.
-- Never expose this to the internet: passwords cross the network in the clear.
pidfile   = "/run/prosody/prosody.pid"
data_path = "/var/lib/prosody"
log = { { levels = { min = "info" }, to = "console" } }
interfaces       = { "*" }
c2s_ports        = { 5222 }
c2s_direct_tls_ports = { }
s2s_ports        = { }
s2s_direct_tls_ports = { }
modules_enabled  = { "roster"; "saslauth"; "disco"; "ping"; "time"; "version" }
modules_disabled = { "s2s"; "offline" }
authentication   = "internal_hashed"   -- SCRAM-SHA-1 works without TLS
storage          = "internal"
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
VirtualHost "hub.test"
