#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs inside the package-test container (tests/packaging/run.sh), as root in its own
# network namespace. Exits non-zero at the first failed check.
set -euo pipefail
PS4='+ [$SECONDS s] '
export DEBIAN_FRONTEND=noninteractive
UNITS=(sarad sara-nodeagent sara-gatewayd)
fail() { echo "FAIL: $*" >&2; systemctl list-jobs --no-pager >&2 || true; for u in "${UNITS[@]}"; do journalctl -u "$u" --no-pager -n 30 >&2 || true; done; exit 1; }
ok() { echo "ok: $*"; }

# The units want network-online.target; in this container systemd-networkd manages no link,
# so systemd-networkd-wait-online would hold every start for 120 s (measured). Masked here only.
systemctl mask --now systemd-networkd-wait-online.service >/dev/null 2>&1 || true

# The lab network: lan0 with the dispatcher's address, a veth pair (the dummy module may be
# missing on the host and cannot be loaded from the container; veth works).
ip link set lo up
ip link add lan0 type veth peer name lan0peer
ip link set lan0peer up
ip link set lan0 address 02:00:00:00:02:01 up
ip addr add 198.18.2.1/24 dev lan0

apt-get install -y -q /root/debs/*.deb >/tmp/apt.log 2>&1 || { cat /tmp/apt.log; fail "apt install"; }
ok "apt install ./sara-*.deb"
[[ -f /etc/sara/cluster.key ]] || fail "postinst created no cluster.key"
[[ $(stat -c %a /etc/sara/cluster.key) == 600 ]] || fail "cluster.key mode $(stat -c %a /etc/sara/cluster.key)"
[[ $(tr -d '\n' </etc/sara/cluster.key | wc -c) == 64 ]] || fail "cluster.key is not 32 bytes as hex"
key_before=$(cat /etc/sara/cluster.key)
ok "cluster.key 0600, 64 hex digits"
for u in "${UNITS[@]}"; do systemctl is-enabled --quiet "$u" || fail "$u not enabled"; done
ok "units enabled"
# Reinstall must not replace the key.
apt-get install -y -q --reinstall /root/debs/*.deb >/tmp/apt.log 2>&1 || { cat /tmp/apt.log; fail "reinstall"; }
[[ $(cat /etc/sara/cluster.key) == "$key_before" ]] || fail "reinstall changed cluster.key"
ok "reinstall keeps cluster.key"

cp /root/lab/dispatcher.yaml /root/lab/nodeagent.yaml /root/lab/gateway.yaml /etc/sara/
for u in "${UNITS[@]}"; do
    systemctl reset-failed "$u" 2>/dev/null || true
    timeout 30 systemctl restart "$u" || fail "systemctl restart $u"
done
sleep 1
for u in "${UNITS[@]}"; do
    systemctl is-active --quiet "$u" || fail "$u not active after start"
    journalctl -u "$u" --no-pager -n 5 -o cat | sed "s/^/  $u: /"
done
ok "the three services active"
# route_announce: sarad keeps the VIP's blackhole route (proto 240, named "sara" by the
# package's rt_protos.d) while it runs. A SIGKILL leaves it behind; the unit's ExecStopPost
# (sarad --withdraw-routes) deletes it before systemd starts sarad again (RestartSec=2s).
vip_route() { ip route show table main proto 240 | grep -q '^blackhole 198.18.100.10'; }
vip_route || fail "no announced VIP route: $(ip route show table main)"
ip route show table main proto sara | grep -q 198.18.100.10 || fail "rt_protos.d does not name proto 240 sara"
ok "route_announce: blackhole 198.18.100.10 proto sara"
systemctl kill --signal=SIGKILL sarad
gone=0
for _ in $(seq 75); do if ! vip_route; then gone=1; break; fi; sleep 0.02; done
((gone)) || fail "the VIP route outlived a SIGKILLed sarad by 1.5 s (ExecStopPost)"
for _ in $(seq 100); do systemctl is-active --quiet sarad && vip_route && break; sleep 0.1; done
systemctl is-active --quiet sarad && vip_route || fail "sarad did not come back with its VIP route"
ok "SIGKILL: route withdrawn by ExecStopPost, back with the restarted sarad"
# saractl's bash completion, installed, offers the running sarad's node ids for drain.
comp=/usr/share/bash-completion/completions/saractl
ids=$(bash -c "source $comp && COMP_WORDS=(saractl drain '') COMP_CWORD=2 && _saractl saractl '' drain && echo \"\${COMPREPLY[*]}\"") \
    || fail "$comp does not load"
[[ $ids == 1 ]] || fail "saractl drain <TAB> offers '$ids', want the lab's node 1"
ok "saractl completion: drain <TAB> -> $ids"
systemd-analyze verify --man=no /lib/systemd/system/sarad.service /lib/systemd/system/sara-nodeagent.service \
    /lib/systemd/system/sara-gatewayd.service 2>&1 | sed 's/^/  verify: /'

pid() { systemctl show -p MainPID --value "$1"; }
# Reload with a good config (a changed value), then with a bad one: each keeps running.
declare -A before
for u in "${UNITS[@]}"; do before[$u]=$(pid "$u"); done
sed -i 's/^heartbeat_interval:.*//' /etc/sara/nodeagent.yaml
echo "load_interval: 400ms" >> /etc/sara/nodeagent.yaml
echo "scheduler: {algorithm: round-robin}" >> /etc/sara/dispatcher.yaml

since=$(date '+%Y-%m-%d %H:%M:%S')
for u in "${UNITS[@]}"; do timeout 30 systemctl reload "$u" || fail "reload $u (good)"; done
sleep 1
for u in "${UNITS[@]}"; do
    systemctl is-active --quiet "$u" || fail "$u not active after a good reload"
    [[ $(pid "$u") == "${before[$u]}" ]] || fail "$u restarted on a good reload"
done
# sarad applies a good config as a diff and says so (daemon/dispatch/dispatcher_daemon.cpp).
applied=$(journalctl -u sarad --since "$since" --no-pager -o cat | grep '^reload: applied' || true)
[[ -n $applied ]] || fail "sarad logged no 'reload: applied' after a good reload"
echo "  sarad: $applied"
ok "good reload: active, same PIDs, sarad applied it"
for f in dispatcher nodeagent gateway; do echo "no_such_key: 1" >> /etc/sara/$f.yaml; done
since=$(date '+%Y-%m-%d %H:%M:%S')
for u in "${UNITS[@]}"; do timeout 30 systemctl reload "$u" || true; done
sleep 1
for u in "${UNITS[@]}"; do
    systemctl is-active --quiet "$u" || fail "$u not active after a bad reload"
    [[ $(pid "$u") == "${before[$u]}" ]] || fail "$u restarted on a bad reload"
    journalctl -u "$u" --since "$since" --no-pager -o cat | grep -q no_such_key \
        || fail "$u logged nothing about the bad key"
done
ok "bad reload: kept running, error in the journal"

# sara-gatewayd is left running: removing its package must stop it (prerm).
for u in sarad sara-nodeagent; do
    timeout 40 systemctl stop "$u" || fail "stop $u"
    ! systemctl is-active --quiet "$u" || fail "$u still active after stop"
done
ok "stop"

apt-get purge -y -q sara-dispatcher sara-gateway sara-nodeagent >/tmp/apt.log 2>&1 || { cat /tmp/apt.log; fail "purge"; }
! systemctl is-active --quiet sara-gatewayd || fail "sara-gatewayd still runs after purge"
[[ ! -e /etc/sara ]] || fail "/etc/sara left after purge: $(ls -A /etc/sara)"
[[ ! -e /var/lib/sara ]] || fail "/var/lib/sara left after purge"
ok "apt purge removes /etc/sara and /var/lib/sara"
