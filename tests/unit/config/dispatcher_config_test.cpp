// SPDX-License-Identifier: GPL-2.0-or-later
// Dispatcher config loading: the sample file, defaults, and every kind of error with its exact
// file:line:col. Cases are literal YAML with a one-line description each.
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "common/config/dispatcher_config.hpp"
#include "common/config/yaml_reader.hpp"  // parse_duration
#include "tests/unit/support/config_cases.hpp"

namespace sara {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

constexpr const char* file_name = "test.yaml";

// Lines 1-2 of most cases: the smallest valid config.
const std::string minimal =
    "vip: 198.18.100.10\n"
    "nodes: [{id: 1, name: node1, address: 198.18.2.11, mac: '02:00:00:00:02:11'}]\n";

using Expected = test::ExpectedError;
using ErrorCase = test::ConfigErrorCase;

void check_case(const ErrorCase& c) {
    BOOST_TEST_CONTEXT(c.description) {
        const ConfigLoad<DispatcherConfig> load = load_dispatcher_config_from_string(c.yaml, file_name);
        test::check_config_errors(load.errors, c, file_name);
    }
}

std::string sample_path() { return test::find_sample("etc/dispatcher.yaml", __FILE__); }

}  // namespace

BOOST_AUTO_TEST_SUITE(dispatcher_config)

BOOST_AUTO_TEST_CASE(sample_file_loads_without_errors) {
    const std::string path = sample_path();
    const ConfigLoad<DispatcherConfig> load = load_dispatcher_config(path);
    BOOST_TEST_INFO("sample: " << path << "\n" << format_config_errors(load.errors));
    BOOST_TEST_REQUIRE(load.ok());
    const DispatcherConfig& c = load.config;
    BOOST_TEST(c.vip.to_string() == "198.18.100.10");
    BOOST_TEST(c.lan_interface == "eth1");
    BOOST_TEST(same_services(c.services, default_services()));
    BOOST_TEST_REQUIRE(c.nodes.size() == 3u);
    BOOST_TEST(c.nodes[2].id == 3);
    BOOST_TEST(c.nodes[2].name == "node3");
    BOOST_TEST(c.nodes[2].address.to_string() == "198.18.2.13");
    BOOST_TEST(c.nodes[2].mac.to_string() == "02:00:00:00:02:13");
    BOOST_TEST(c.nodes[2].weight == 2);
    BOOST_TEST((c.nodes[2].media_ports == std::vector<PortRange>{{40000, 44999}, {45000, 49999}}));
    BOOST_TEST_REQUIRE(c.health.has_value());
    BOOST_TEST(c.health->listen.to_string() == "198.18.2.1:7400");
    BOOST_TEST(c.health->heartbeat_interval.count() == 200);
    BOOST_TEST_REQUIRE(c.sync.has_value());
    BOOST_TEST(c.sync->peer.to_string() == "198.18.2.2:7401");
    BOOST_TEST(c.sync->id == 1001);
    BOOST_TEST(c.sync->peer_id == 1002);
    BOOST_TEST((c.sync->interval == milliseconds(50)));
    BOOST_TEST(c.sync->snapshot_rate == 100000u);
    BOOST_TEST(c.sync->floating_address.value().to_string() == "198.18.1.5");
    BOOST_TEST_REQUIRE(c.announce.has_value());
    BOOST_TEST(c.announce->listen.port == 7402);
    // Every other value in the sample is the documented default.
    BOOST_TEST((c.queue == QueueConfig{}));
    BOOST_TEST((c.admission == AdmissionConfig{}));
    BOOST_TEST((c.scheduler == SchedulerConfig{}));
    BOOST_TEST((c.auth == AuthConfig{}));
    BOOST_TEST((c.control == ControlConfig{}));
    BOOST_TEST(c.metrics.listen.to_string() == "198.18.2.1:9740");
    BOOST_TEST((c.limits == LimitsConfig{}));
}

BOOST_AUTO_TEST_CASE(minimal_config_gets_defaults) {
    const ConfigLoad<DispatcherConfig> load = load_dispatcher_config_from_string(minimal, file_name);
    BOOST_TEST_INFO(format_config_errors(load.errors));
    BOOST_TEST_REQUIRE(load.ok());
    const DispatcherConfig& c = load.config;
    BOOST_TEST(c.lan_interface.empty());
    BOOST_TEST(to_string(c.forwarding.mode) == std::string("route"));
    BOOST_TEST_REQUIRE(c.services.size() == 2u);
    BOOST_TEST(c.services[0].name == "sip");
    BOOST_TEST(to_string(c.services[0].protocol) == std::string("sip"));
    BOOST_TEST(c.services[0].udp);
    BOOST_TEST(c.services[0].tcp);
    BOOST_TEST(c.services[0].port == 5060);
    BOOST_TEST((c.services[0].flow_timeout == seconds(30)));
    BOOST_TEST(c.services[1].name == "rtsp");
    BOOST_TEST(to_string(c.services[1].protocol) == std::string("rtsp"));
    BOOST_TEST(!c.services[1].udp);
    BOOST_TEST(c.services[1].tcp);
    BOOST_TEST(c.services[1].port == 554);
    BOOST_TEST((c.services[1].flow_timeout == seconds(60)));
    BOOST_TEST(c.nodes[0].weight == 1);
    BOOST_TEST(!c.nodes[0].drain);
    BOOST_TEST(!c.health.has_value());
    BOOST_TEST(!c.sync.has_value());
    BOOST_TEST(!c.announce.has_value());
    BOOST_TEST(c.auth.enabled);
    BOOST_TEST(c.auth.key_file == "/etc/sara/cluster.key");
    BOOST_TEST(c.control.socket == "/run/sara/sarad.sock");
    BOOST_TEST(c.metrics.listen.to_string() == "127.0.0.1:9740");
    BOOST_TEST(c.limits.max_sessions == 1'000'000u);
    BOOST_TEST(c.limits.max_flows == 4'000'000u);
    BOOST_TEST(c.limits.max_flows_per_session == 16u);
    BOOST_TEST(c.limits.max_announced_per_session == 8u);
    BOOST_TEST(c.limits.max_header_bytes == 16384u);
    BOOST_TEST(c.limits.stream_buffer_bytes == 33554432u);
    BOOST_TEST(c.admission.t1 == 0.80);
    BOOST_TEST(c.admission.t2 == 0.90);
    BOOST_TEST(c.scheduler.window == 4u);
    BOOST_TEST(c.admission.enabled);
    BOOST_TEST(to_string(c.scheduler.algorithm) == std::string("shell"));
}

BOOST_AUTO_TEST_CASE(valid_variants_load) {
    struct ValidCase {
        const char* description;
        std::string yaml;
    };
    const std::vector<ValidCase> cases = {
        {"auth: none turns authentication off", minimal + "auth: none\n"},
        {"a single transport value counts as a list", minimal + "services: [{name: s, protocol: sip, transport: udp, port: 5060}]\n"},
        {"fractional and minute durations", minimal + "health: {listen: '198.18.2.1:7400', heartbeat_interval: 1.5s, load_interval: 1m}\n"},
        {"IPv6 VIP, node and bracketed endpoints",
         "vip: 2001:db8::10\n"
         "nodes: [{id: 250, name: n, address: '2001:db8::11', mac: '02:AB:cd:00:00:01', weight: 1000}]\n"
         "metrics: {listen: '[::1]:9740'}\n"},
        {"thresholds may be equal", minimal + "admission: {t1: 0.5, t2: 0.5, t3: 0.5, capacity: 0.5}\n"},
        {"raw forwarding with an interface", minimal + "lan_interface: lan0\nforwarding: {mode: raw}\n"},
        {"block style lists and mappings",
         "vip: 198.18.100.10\n"
         "nodes:\n"
         "  - id: 1\n"
         "    name: a\n"
         "    address: 198.18.2.11\n"
         "    mac: \"02:00:00:00:02:11\"\n"
         "services:\n"
         "  - name: media\n"
         "    protocol: udp\n"
         "    port: 4000\n"},
        {"admission switched off", minimal + "admission: {enabled: false}\n"},
        {"two gateways", minimal + "announce: {listen: '198.18.2.1:7402', senders: [251, 300]}\n"},
        {"conntrack pre-installation", minimal + "forwarding: {mode: route, preinstall: true}\n"},
        {"media linger and RTSP affinity", minimal + "forwarding: {media_linger: 0s, rtsp_affinity: 10s}\n"},
        {"media port ranges: one, a list, adjacent across nodes",
         "vip: 198.18.100.10\n"
         "nodes:\n"
         "  - {id: 1, name: a, address: 198.18.2.11, mac: '02:00:00:00:02:11', media_ports: 20000-20999}\n"
         "  - {id: 2, name: b, address: 198.18.2.12, mac: '02:00:00:00:02:12', media_ports: [21000-21999, 40000-40000]}\n"},
    };
    for (const ValidCase& c : cases) {
        BOOST_TEST_CONTEXT(c.description) {
            const ConfigLoad<DispatcherConfig> load = load_dispatcher_config_from_string(c.yaml, file_name);
            BOOST_TEST(load.ok(), format_config_errors(load.errors));
        }
    }
    const ConfigLoad<DispatcherConfig> raw = load_dispatcher_config_from_string(cases[5].yaml, file_name);
    BOOST_TEST(to_string(raw.config.forwarding.mode) == std::string("raw"));
    const ConfigLoad<DispatcherConfig> block = load_dispatcher_config_from_string(cases[6].yaml, file_name);
    BOOST_TEST_REQUIRE(block.config.services.size() == 1u);
    BOOST_TEST(to_string(block.config.services[0].protocol) == std::string("plain"));
    BOOST_TEST(block.config.services[0].udp);
    BOOST_TEST(!block.config.services[0].tcp);
    BOOST_TEST((block.config.services[0].flow_timeout == seconds(30)));
    const ConfigLoad<DispatcherConfig> durations = load_dispatcher_config_from_string(cases[2].yaml, file_name);
    BOOST_TEST_REQUIRE(durations.config.health.has_value());
    BOOST_TEST((durations.config.health->heartbeat_interval == milliseconds(1500)));
    BOOST_TEST((durations.config.health->load_interval == seconds(60)));
    BOOST_TEST(!load_dispatcher_config_from_string(cases[7].yaml, file_name).config.admission.enabled);
    const ConfigLoad<DispatcherConfig> gateways = load_dispatcher_config_from_string(cases[8].yaml, file_name);
    BOOST_TEST_REQUIRE(gateways.config.announce.has_value());
    BOOST_TEST((gateways.config.announce->senders == std::vector<uint16_t>{251, 300}));
    BOOST_TEST(load_dispatcher_config_from_string(cases[9].yaml, file_name).config.forwarding.preinstall);
    const ConfigLoad<DispatcherConfig> none = load_dispatcher_config_from_string(cases[0].yaml, file_name);
    BOOST_TEST(!none.config.auth.enabled);
}

BOOST_AUTO_TEST_CASE(error_format) {
    BOOST_TEST(format_config_error({"a.yaml", 3, 7, "bad"}) == "a.yaml:3:7: error: bad");
    BOOST_TEST(format_config_error({"a.yaml", 0, 0, "cannot open"}) == "a.yaml: error: cannot open");
    const ConfigLoad<DispatcherConfig> load = load_dispatcher_config_from_string(minimal + "colour: red\n", "x.yaml");
    BOOST_TEST_REQUIRE(load.errors.size() == 1u);
    BOOST_TEST(format_config_errors(load.errors) ==
               "x.yaml:3:1: error: unknown key 'colour'; allowed: vip, lan_interface, queue, forwarding, services, "
               "nodes, health, admission, scheduler, auth, announce, sync, route_announce, control, metrics, limits\n");
}

BOOST_AUTO_TEST_CASE(missing_file_has_no_position) {
    const ConfigLoad<DispatcherConfig> load = load_dispatcher_config("/nonexistent/sara/dispatcher.yaml");
    BOOST_TEST_REQUIRE(load.errors.size() == 1u);
    BOOST_TEST(format_config_error(load.errors[0]) ==
               "/nonexistent/sara/dispatcher.yaml: error: cannot open: No such file or directory");
}

BOOST_AUTO_TEST_CASE(syntax_and_document_errors) {
    const std::vector<ErrorCase> cases = {
        {"unclosed flow list: reported where yaml-cpp gives up",
         "vip: 198.18.100.10\nnodes: [1, 2\nqueue: {}\n",
         {{3, 6, "YAML syntax: end of sequence flow not found"}}},
        {"key indented under a scalar", "vip: 198.18.100.10\n  nodes: 1\n", {{2, 8, "YAML syntax: illegal map value"}}},
        {"undefined alias", minimal + "queue: *nope\n", {{3, 8, "YAML syntax: the referenced anchor is not defined"}}},
        {"empty file", "", {{1, 1, "file is empty"}}},
        {"only a comment", "# nothing\n", {{1, 1, "file is empty"}}},
        {"second document: at its ---", minimal + "---\nvip: 198.18.100.11\n", {{3, 1, "only one YAML document is allowed"}}},
        {"text after the end of the document (yaml-cpp's LoadAll would loop forever on it)",
         "\n- macro: m\n  condition:\n    (a in (\n\"b\",\n    \"c\"\n    )  )\n",
         {{5, 1, "YAML syntax: unexpected text after the document"}}},
        {"root is a list", "- vip\n", {{1, 1, "top level: expected a mapping, got a list"}}},
        {"root is a scalar", "vip\n", {{1, 1, "top level: expected a mapping, got 'vip'"}}},
    };
    for (const ErrorCase& c : cases) check_case(c);
}

BOOST_AUTO_TEST_CASE(required_fields) {
    const std::vector<ErrorCase> cases = {
        {"vip and nodes missing: reported at the top-level mapping",
         "queue: {count: 2}\n",
         {{1, 1, "missing required key 'vip'"}, {1, 1, "missing required key 'nodes'"}}},
        {"empty node list", "vip: 198.18.100.10\nnodes: []\n", {{2, 8, "nodes: needs at least one node"}}},
        {"nodes is not a list", "vip: 198.18.100.10\nnodes: {id: 1}\n", {{2, 8, "nodes: expected a list, got a mapping"}}},
        {"node without address and mac: reported at the node",
         "vip: 198.18.100.10\nnodes:\n  - {id: 1, name: a}\n",
         {{3, 5, "nodes[0]: missing required key 'address'"}, {3, 5, "nodes[0]: missing required key 'mac'"}}},
        {"empty value is reported at its key", minimal + "health:\n", {{3, 1, "health: expected a mapping, got nothing"}}},
        {"section with a required key", minimal + "sync: {listen: '198.18.2.1:7401'}\n",
         {{3, 7, "sync: missing required key 'id'"}, {3, 7, "sync: missing required key 'peer'"},
          {3, 7, "sync: missing required key 'peer_id'"}}},
        {"a mesh's peers: each with id and address, none this dispatcher, none twice",
         minimal + "sync:\n  listen: '198.18.2.1:7401'\n  id: 1\n  peers:\n"
                   "    - {id: 2, address: '198.18.2.2:7401'}\n    - {id: 1, address: '198.18.2.3:7401'}\n"
                   "    - {id: 2, address: '198.18.2.1:7401'}\n    - {address: '198.18.2.4:7401'}\n",
         {{10, 7, "sync.peers[3]: missing required key 'id'"}}},
        {"a mesh's peers: duplicates and this dispatcher",
         minimal + "sync:\n  listen: '198.18.2.1:7401'\n  id: 1\n  peers:\n"
                   "    - {id: 2, address: '198.18.2.2:7401'}\n    - {id: 1, address: '198.18.2.3:7401'}\n"
                   "    - {id: 2, address: '198.18.2.1:7401'}\n",
         {{7, 5, "sync.peers[1]: id 1 is sync.id"},
          {7, 5, "sync.peers[2]: address is sync.listen"},
          {7, 5, "sync.peers[2]: id 2 is listed twice"}}},
        {"a mesh has no pair peer and no floating address",
         minimal + "sync:\n  listen: '198.18.2.1:7401'\n  id: 1\n  peer_id: 2\n  floating_address: 198.18.1.5\n"
                   "  peers: [{id: 2, address: '198.18.2.2:7401'}]\n",
         {{6, 12, "sync.peer_id: is for an HA pair; a mesh (sync.peers) has none"},
          {7, 21, "sync.floating_address: is for an HA pair; a mesh (sync.peers) has none"}}},
        {"route_announce: not the kernel's default table", minimal + "route_announce: {table: 253}\n",
         {{3, 25, "route_announce.table: 253 is the kernel's default table"}}},
        {"route_announce: not the local table", minimal + "route_announce: {table: 255}\n",
         {{3, 25, "route_announce.table: 255 is out of range 1..254"}}},
        {"an empty mesh", minimal + "sync: {listen: '198.18.2.1:7401', id: 1, peers: []}\n",
         {{3, 49, "sync.peers: needs at least one other dispatcher"}}},
        {"sync ids must differ", minimal + "sync: {listen: '198.18.2.1:7401', peer: '198.18.2.2:7401', id: 7, peer_id: 7}\n",
         {{3, 76, "sync.peer_id: is the same as sync.id"}}},
        {"the floating address is a specified address",
         minimal + "sync: {listen: '198.18.2.1:7401', peer: '198.18.2.2:7401', id: 7, peer_id: 8,\n"
                   "       floating_address: '::'}\n",
         {{4, 26, "sync.floating_address: needs a specified address (keepalived's virtual_ipaddress), got ::"}}},
        {"a snapshot rate below a thousand records a second",
         minimal + "sync: {listen: '198.18.2.1:7401', peer: '198.18.2.2:7401', id: 7, peer_id: 8, snapshot_rate: 999}\n",
         {{3, 94, "sync.snapshot_rate: 999 is out of range 1000..10000000"}}},
        {"a floating address that is no address",
         minimal + "sync: {listen: '198.18.2.1:7401', peer: '198.18.2.2:7401', id: 7, peer_id: 8, floating_address: x}\n",
         {{3, 97, "sync.floating_address: expected an IPv4 or IPv6 address, got 'x'"}}},
    };
    for (const ErrorCase& c : cases) check_case(c);
}

BOOST_AUTO_TEST_CASE(media_port_ranges) {
    const ConfigLoad<DispatcherConfig> load = load_dispatcher_config_from_string(
        "vip: 198.18.100.10\n"
        "nodes:\n"
        "  - {id: 1, name: a, address: 198.18.2.11, mac: '02:00:00:00:02:11', media_ports: 20000-20999}\n"
        "  - {id: 2, name: b, address: 198.18.2.12, mac: '02:00:00:00:02:12', media_ports: [21000-21999, 40000-40001]}\n"
        "  - {id: 3, name: c, address: 198.18.2.13, mac: '02:00:00:00:02:13'}\n",
        file_name);
    BOOST_TEST_REQUIRE(load.errors.empty());
    const auto& nodes = load.config.nodes;
    BOOST_TEST((nodes[0].media_ports == std::vector<PortRange>{{20000, 20999}}));
    BOOST_TEST((nodes[1].media_ports == std::vector<PortRange>{{21000, 21999}, {40000, 40001}}));
    BOOST_TEST(nodes[2].media_ports.empty());
    BOOST_TEST(load.config.forwarding.media_linger == milliseconds(2000));
    BOOST_TEST(load.config.forwarding.rtsp_affinity == milliseconds(30'000));

    const std::string head = "vip: 198.18.100.10\nnodes:\n";
    const std::string a = "  - {id: 1, name: a, address: 198.18.2.11, mac: '02:00:00:00:02:11', media_ports: ";
    const std::string b = "  - {id: 2, name: b, address: 198.18.2.12, mac: '02:00:00:00:02:12', media_ports: ";
    const std::vector<ErrorCase> cases = {
        {"reversed range", head + a + "20999-20000}\n", {{3, 83, "nodes[0].media_ports: 20999-20000 is reversed (LO > HI)"}}},
        {"not a range", head + a + "20000}\n", {{3, 83, "nodes[0].media_ports: expected a port range LO-HI (1..65535), got '20000'"}}},
        {"port 0", head + a + "0-100}\n", {{3, 83, "expected a port range LO-HI"}}},
        {"beyond 65535", head + a + "65000-65536}\n", {{3, 83, "expected a port range LO-HI"}}},
        {"overlap within a node", head + a + "[20000-20999, 20500-21500]}\n",
         {{3, 97, "nodes[0].media_ports[1]: 20500-21500 overlaps nodes[0].media_ports[0] (20000-20999, line 3)"}}},
        {"overlap across nodes", head + a + "20000-20999}\n" + b + "20999-21999}\n",
         {{4, 83, "nodes[1].media_ports: 20999-21999 overlaps nodes[0].media_ports (20000-20999, line 3)"}}},
        {"covers SIP's 5060", head + a + "5000-5999}\n",
         {{3, 83, "nodes[0].media_ports: 5000-5999 covers signalling port 5060 (service 'sip')"}}},
        {"covers RTSP's 554", head + a + "500-600}\n",
         {{3, 83, "nodes[0].media_ports: 500-600 covers signalling port 554 (service 'rtsp')"}}},
        {"media_linger beyond a minute", minimal + "forwarding: {media_linger: 61s}\n",
         {{3, 28, "forwarding.media_linger"}}},
    };
    for (const ErrorCase& c : cases) check_case(c);
}

BOOST_AUTO_TEST_CASE(bpf_fast_path) {
    const ConfigLoad<DispatcherConfig> defaults = load_dispatcher_config_from_string(minimal, file_name);
    BOOST_REQUIRE(defaults.ok());
    BOOST_TEST((defaults.config.forwarding.fast_path == FastPath::netfilter));
    const ConfigLoad<DispatcherConfig> bpf = load_dispatcher_config_from_string(
        minimal + "forwarding:\n  fast_path: bpf\n  bpf: {interface: eth0, hook: xdp, on_failure: netfilter, "
                  "max_flows: 4096, object: /opt/sara/fp.o}\n",
        file_name);
    BOOST_REQUIRE(bpf.ok());
    const BpfConfig& b = bpf.config.forwarding.bpf;
    BOOST_TEST((bpf.config.forwarding.fast_path == FastPath::bpf));
    BOOST_TEST(b.interface == "eth0");
    BOOST_TEST((b.hook == BpfAttachHook::xdp));
    BOOST_TEST((b.on_failure == BpfFailure::netfilter));
    BOOST_TEST(b.max_flows == 4096u);
    BOOST_TEST(b.object == "/opt/sara/fp.o");
    BOOST_TEST(b.line == 4);  // where fast_path is written: --check-config's position
    BOOST_TEST(b.column == 14);
    // A bpf section without fast_path: bpf is read (and checked) but unused.
    BOOST_TEST(load_dispatcher_config_from_string(minimal + "forwarding: {bpf: {interface: eth0}}\n", file_name).ok());

    const std::vector<ErrorCase> cases = {
        {"bpf without an interface", minimal + "forwarding: {fast_path: bpf}\n",
         {{3, 25, "forwarding.fast_path: bpf needs forwarding.bpf.interface"}}},
        {"bpf without an interface in its section", minimal + "forwarding: {fast_path: bpf, bpf: {hook: tc}}\n",
         {{3, 35, "forwarding.bpf: missing required key 'interface'"}}},
        {"an unknown fast path", minimal + "forwarding: {fast_path: dpdk}\n", {{3, 25, "forwarding.fast_path"}}},
        {"an unknown hook", minimal + "forwarding: {fast_path: bpf, bpf: {interface: eth0, hook: af_xdp}}\n",
         {{3, 59, "forwarding.bpf.hook"}}},
        {"a tiny flow map", minimal + "forwarding: {fast_path: bpf, bpf: {interface: eth0, max_flows: 10}}\n",
         {{3, 64, "forwarding.bpf.max_flows"}}},
        {"a relative object path", minimal + "forwarding: {fast_path: bpf, bpf: {interface: eth0, object: fp.o}}\n",
         {{3, 61, "forwarding.bpf.object"}}},
        {"bpf in raw mode", "lan_interface: lan0\n" + minimal + "forwarding: {mode: raw, fast_path: bpf, bpf: {interface: eth0}}\n",
         {{4, 36, "forwarding.fast_path: bpf needs forwarding.mode: route"}}},
    };
    for (const ErrorCase& c : cases) check_case(c);
}

BOOST_AUTO_TEST_CASE(duplicate_keys) {
    const std::vector<ErrorCase> cases = {
        {"duplicate top-level key, at the second one",
         minimal + "vip: 198.18.100.11\n",
         {{3, 1, "duplicate key 'vip' (first given at line 1)"}}},
        {"duplicate key in a flow mapping", minimal + "queue: {count: 2, count: 3}\n",
         {{3, 19, "queue: duplicate key 'count'"}}},
        {"duplicate key in a list item",
         "vip: 198.18.100.10\n"
         "nodes:\n"
         "  - id: 1\n"
         "    name: a\n"
         "    address: 198.18.2.11\n"
         "    mac: '02:00:00:00:02:11'\n"
         "    id: 2\n",
         {{7, 5, "nodes[0]: duplicate key 'id' (first given at line 3)"}}},
    };
    for (const ErrorCase& c : cases) check_case(c);
}

BOOST_AUTO_TEST_CASE(unknown_keys) {
    const std::vector<ErrorCase> cases = {
        {"unknown key in a section lists the allowed ones", minimal + "queue: {frist: 1}\n",
         {{3, 9, "queue: unknown key 'frist'; allowed: first, count, max_len, fail_open"}}},
        {"unknown key in a node", "vip: 198.18.100.10\nnodes: [{id: 1, name: a, address: 198.18.2.11, mac: '02:00:00:00:02:11', port: 1}]\n",
         {{2, 74, "nodes[0]: unknown key 'port'; allowed: id, name, address, mac, weight, drain, media_ports"}}},
        {"drain is a boolean", "vip: 198.18.100.10\nnodes: [{id: 1, name: a, address: 198.18.2.11, mac: '02:00:00:00:02:11', drain: 2}]\n",
         {{2, 81, "nodes[0].drain"}}},
        {"merge keys are not supported", minimal + "base: &b {count: 2}\nqueue: {<<: *b}\n",
         {{3, 1, "unknown key 'base'"}, {4, 9, "(YAML merge keys are not supported)"}}},
        {"a key that is not a string", minimal + "[a, b]: 1\n", {{3, 1, "keys must be plain strings"}}},
    };
    for (const ErrorCase& c : cases) check_case(c);
}

BOOST_AUTO_TEST_CASE(bad_scalars) {
    const std::vector<ErrorCase> cases = {
        {"integer with junk", minimal + "queue: {count: 2x}\n", {{3, 16, "queue.count: expected an integer in 1..64, got '2x'"}}},
        {"integer out of range", minimal + "queue: {max_len: 0}\n", {{3, 18, "queue.max_len: 0 is out of range 1..1048576"}}},
        {"integer beyond 64 bits", minimal + "limits: {max_sessions: 99999999999999999999}\n",
         {{3, 24, "limits.max_sessions: '99999999999999999999' is out of range 1..100000000"}}},
        {"hex integers are not accepted", minimal + "queue: {first: 0x10}\n", {{3, 16, "expected an integer"}}},
        {"yes is not a boolean", minimal + "queue: {fail_open: yes}\n",
         {{3, 20, "queue.fail_open: expected true or false, got 'yes'"}}},
        {"enum lists the allowed values", minimal + "scheduler: {algorithm: fastest}\n",
         {{3, 24, "allowed: shell, round-robin, weighted-round-robin, least-sessions, least-loaded, two-choices"}}},
        {"fraction above 1", minimal + "admission: {alpha: 1.5}\n", {{3, 20, "admission.alpha: 1.5 is out of range 0..1"}}},
        {"nan is not a number", minimal + "admission: {alpha: nan}\n", {{3, 20, "admission.alpha: expected a number"}}},
        {"a list of VIPs holds addresses", "vip: [1]\nnodes: [{id: 1, name: a, address: 198.18.2.11, mac: '02:00:00:00:02:11'}]\n",
         {{1, 7, "vip[0]: expected an IPv4 or IPv6 address, got '1'"}}},
        {"mapping where an address belongs", "vip: {a: 1}\nnodes: [{id: 1, name: a, address: 198.18.2.11, mac: '02:00:00:00:02:11'}]\n",
         {{1, 6, "vip: expected an IP address or a list of an IPv4 and an IPv6 address, got a mapping"}}},
        {"two IPv4 VIPs", "vip: [198.18.100.10, 198.18.100.11]\nnodes: [{id: 1, name: a, address: 198.18.2.11, mac: '02:00:00:00:02:11'}]\n",
         {{1, 22, "vip: 198.18.100.11 is of the same family as 198.18.100.10"}}},
        {"three VIPs", "vip: [198.18.100.10, '2001:db8::10', '2001:db8::11']\nnodes: [{id: 1, name: a, address: 198.18.2.11, mac: '02:00:00:00:02:11'}]\n",
         {{1, 38, "vip: at most two addresses, one IPv4 and one IPv6"}}},
        {"an empty list of VIPs", "vip: []\nnodes: [{id: 1, name: a, address: 198.18.2.11, mac: '02:00:00:00:02:11'}]\n",
         {{1, 6, "vip: needs an address"}}},
        {"an unspecified IPv6 VIP in a list", "vip: [198.18.100.10, '::']\nnodes: [{id: 1, name: a, address: 198.18.2.11, mac: '02:00:00:00:02:11'}]\n",
         {{1, 22, "vip: :: is unspecified"}}},
        {"bad IPv4 address", "vip: 198.18.100.300\nnodes: [{id: 1, name: a, address: 198.18.2.11, mac: '02:00:00:00:02:11'}]\n",
         {{1, 6, "vip: expected an IPv4 or IPv6 address, got '198.18.100.300'"}}},
        {"unspecified VIP", "vip: 0.0.0.0\nnodes: [{id: 1, name: a, address: 198.18.2.11, mac: '02:00:00:00:02:11'}]\n",
         {{1, 6, "vip: 0.0.0.0 is unspecified"}}},
        {"endpoint without a port", minimal + "metrics: {listen: 127.0.0.1}\n", {{3, 19, "metrics.listen: expected ADDRESS:PORT"}}},
        {"IPv6 endpoint without brackets", minimal + "metrics: {listen: '::1:9740'}\n", {{3, 19, "[IPV6]:PORT"}}},
        {"port 0 in an endpoint", minimal + "metrics: {listen: '127.0.0.1:0'}\n", {{3, 19, "port 1..65535"}}},
        {"MAC with a missing octet", "vip: 198.18.100.10\nnodes: [{id: 1, name: a, address: 198.18.2.11, mac: '02:00:00:00:02'}]\n",
         {{2, 53, "nodes[0].mac: expected a MAC address like 02:00:00:00:02:11, got '02:00:00:00:02'"}}},
        {"broadcast MAC", "vip: 198.18.100.10\nnodes: [{id: 1, name: a, address: 198.18.2.11, mac: 'ff:ff:ff:ff:ff:ff'}]\n",
         {{2, 53, "is not a unicast MAC address"}}},
        {"node address is the VIP", "vip: 198.18.100.10\nnodes: [{id: 1, name: a, address: 198.18.100.10, mac: '02:00:00:00:02:11'}]\n",
         {{2, 35, "nodes[0].address: 198.18.100.10 is the VIP"}}},
        {"name with a space", "vip: 198.18.100.10\nnodes: [{id: 1, name: 'a b', address: 198.18.2.11, mac: '02:00:00:00:02:11'}]\n",
         {{2, 23, "nodes[0].name: 'a b' is not a name"}}},
        {"relative socket path", minimal + "control: {socket: sarad.sock}\n", {{3, 19, "control.socket: expected an absolute path"}}},
        {"socket path longer than sun_path", minimal + "control: {socket: /" + std::string(107, 'x') + "}\n",
         {{3, 19, "control.socket: path longer than 107 bytes"}}},
        {"auth neither none nor a mapping", minimal + "auth: off\n", {{3, 7, "auth: expected 'none' or {key_file: PATH}"}}},
        {"interface name with a slash", minimal + "lan_interface: eth/1\n", {{3, 16, "lan_interface: 'eth/1' is not a network interface name"}}},
        {"raw forwarding needs lan_interface", minimal + "forwarding: {mode: raw}\n", {{3, 20, "forwarding.mode: raw needs lan_interface"}}},
        {"queue numbers past 65535", minimal + "queue: {first: 65535, count: 2}\n", {{3, 30, "queue: queues 65535..65536 go past 65535"}}},
    };
    for (const ErrorCase& c : cases) check_case(c);
}

BOOST_AUTO_TEST_CASE(bad_durations) {
    const std::string health = minimal + "health: {listen: '198.18.2.1:7400', heartbeat_interval: ";
    // The value starts at column 57 of line 3.
    const std::vector<ErrorCase> cases = {
        {"bare number has no unit", health + "200}\n", {{3, 57, "duration '200' has no unit (write e.g. 200s or 200ms)"}}},
        {"unknown unit", health + "200x}\n", {{3, 57, "expected a duration such as 200ms, 30s, 1.5s or 2m, got '200x'"}}},
        {"space before the unit", health + "200 ms}\n", {{3, 57, "got '200 ms'"}}},
        {"negative", health + "-1s}\n", {{3, 57, "got '-1s'"}}},
        {"below the minimum", health + "5ms}\n", {{3, 57, "health.heartbeat_interval: 5ms is out of range 10ms..10s"}}},
        {"above the maximum", health + "1m}\n", {{3, 57, "health.heartbeat_interval: 1m is out of range 10ms..10s"}}},
        {"finer than a millisecond", health + "10.5ms}\n", {{3, 57, "must be a whole number of milliseconds"}}},
        {"huge value", health + "99999999999999999h}\n", {{3, 57, "expected a duration"}}},
        {"flow timeout above an hour", minimal + "services: [{name: s, protocol: sip, port: 5060, flow_timeout: 2h}]\n",
         {{3, 63, "services[0].flow_timeout: 2h is out of range 1s..1h"}}},
        {"Retry-After in whole seconds", minimal + "admission: {sip_retry_after: 1.5s}\n",
         {{3, 30, "admission.sip_retry_after: must be a whole number of seconds"}}},
    };
    for (const ErrorCase& c : cases) check_case(c);
}

BOOST_AUTO_TEST_CASE(parse_duration_values) {
    struct DurationCase {
        const char* text;
        std::optional<nanoseconds> expected;
    };
    const std::vector<DurationCase> cases = {
        {"200ms", milliseconds(200)},     {"30s", seconds(30)},
        {"1.5s", milliseconds(1500)},     {"2m", seconds(120)},
        {"1h", seconds(3600)},            {"0s", nanoseconds(0)},
        {"7ns", nanoseconds(7)},          {"1.25us", nanoseconds(1250)},
        {"2.5us", nanoseconds(2500)},     {"1.000000001s", nanoseconds(1'000'000'001)},
        {"1.0000000001s", std::nullopt},  {"0.1500000000000000000s", milliseconds(150)},
        {"30", std::nullopt},             {"s", std::nullopt},
        {"1.s", std::nullopt},            {".5s", std::nullopt},
        {" 1s", std::nullopt},            {"1s ", std::nullopt},
        {"1e3ms", std::nullopt},          {"+1s", std::nullopt},
        {"2562048h", std::nullopt},       {"2562047m", seconds(2562047LL * 60)},
    };
    for (const DurationCase& c : cases) {
        BOOST_TEST_CONTEXT(c.text) {
            const std::optional<nanoseconds> got = parse_duration(c.text);
            BOOST_TEST(got.has_value() == c.expected.has_value());
            if (got && c.expected) BOOST_TEST(got->count() == c.expected->count());
        }
    }
}

BOOST_AUTO_TEST_CASE(thresholds_out_of_order) {
    const std::vector<ErrorCase> cases = {
        {"t2 below t1: at t2", minimal + "admission: {t1: 0.9, t2: 0.8}\n",
         {{3, 26, "admission.t2 (0.8) must be >= admission.t1 (0.9)"}}},
        {"gateway id in the node range", minimal + "announce: {listen: '198.18.2.1:7402', senders: [250]}\n",
         {{3, 49, "announce.senders[0]: 250 is out of range 251..65535"}}},
        {"gateway id twice", minimal + "announce: {listen: '198.18.2.1:7402', senders: [251, 251]}\n",
         {{3, 48, "announce.senders: gateway id 251 is listed twice"}}},
        {"t1 above the default t2: at t1", minimal + "admission: {t1: 0.92}\n",
         {{3, 17, "admission.t1 (0.92) must be <= admission.t2 (0.9, the default)"}}},
        {"t3 above capacity: at capacity", minimal + "admission: {t3: 0.95, capacity: 0.9}\n",
         {{3, 33, "admission.capacity (0.9) must be >= admission.t3 (0.95)"}}},
        {"capacity 0", minimal + "admission: {t1: 0, t2: 0, t3: 0, capacity: 0}\n",
         {{3, 44, "admission.capacity: must be greater than 0"}}},
        {"two inversions, two errors", minimal + "admission: {t1: 0.8, t2: 0.7, t3: 0.6}\n",
         {{3, 26, "admission.t2 (0.7) must be >= admission.t1 (0.8)"},
          {3, 35, "admission.t3 (0.6) must be >= admission.t2 (0.7)"}}},
        {"an invalid threshold is not compared", minimal + "admission: {t1: 2, t2: 0.1}\n",
         {{3, 17, "admission.t1: 2 is out of range 0..1"}}},
        {"stream buffer budget below 64 KiB", minimal + "limits: {stream_buffer_bytes: 65535}\n",
         {{3, 31, "limits.stream_buffer_bytes: 65535 is out of range 65536..68719476736"}}},
        {"max_flows below max_sessions", minimal + "limits: {max_sessions: 10, max_flows: 5}\n",
         {{3, 39, "limits.max_flows (5) must be >= limits.max_sessions (10)"}}},
        {"announced flows not below flows per session", minimal + "limits: {max_flows_per_session: 4, max_announced_per_session: 4}\n",
         {{3, 63, "limits.max_announced_per_session (4) must be less than limits.max_flows_per_session (4)"}}},
    };
    for (const ErrorCase& c : cases) check_case(c);
}

BOOST_AUTO_TEST_CASE(duplicate_nodes_and_services) {
    const std::string head = "vip: 198.18.100.10\nnodes:\n";
    const std::vector<ErrorCase> cases = {
        {"duplicate node id: at the second",
         head + "  - {id: 1, name: a, address: 198.18.2.11, mac: '02:00:00:00:02:11'}\n"
                "  - {id: 1, name: b, address: 198.18.2.12, mac: '02:00:00:00:02:12'}\n",
         {{4, 10, "nodes[1].id: node id 1 is already used at line 3"}}},
        {"duplicate MAC in another case: at the second",
         head + "  - {id: 1, name: a, address: 198.18.2.11, mac: '02:00:00:00:02:aa'}\n"
                "  - {id: 2, name: b, address: 198.18.2.12, mac: '02:00:00:00:02:AA'}\n",
         {{4, 49, "nodes[1].mac: MAC 02:00:00:00:02:aa is already used at line 3"}}},
        {"duplicate name and address",
         head + "  - {id: 1, name: a, address: 198.18.2.11, mac: '02:00:00:00:02:11'}\n"
                "  - {id: 2, name: a, address: 198.18.2.11, mac: '02:00:00:00:02:12'}\n",
         {{4, 19, "node name 'a' is already used at line 3"}, {4, 31, "address 198.18.2.11 is already used at line 3"}}},
        {"the same IPv6 address written two ways",
         head + "  - {id: 1, name: a, address: '2001:db8::1', mac: '02:00:00:00:02:11'}\n"
                "  - {id: 2, name: b, address: '2001:0db8:0::1', mac: '02:00:00:00:02:12'}\n",
         {{4, 31, "address 2001:db8::1 is already used at line 3"}}},
        {"duplicate service name",
         minimal + "services:\n  - {name: s, protocol: sip, port: 5060}\n  - {name: s, protocol: rtsp, port: 554}\n",
         {{5, 12, "services[1].name: service name 's' is already used at line 4"}}},
        {"two services on one transport and port: at the second port",
         minimal + "services:\n  - {name: a, protocol: sip, port: 5060}\n  - {name: b, protocol: tcp, port: 5060}\n",
         {{5, 36, "services[1].port: tcp/5060 already belongs to the service at line 4"}}},
        {"transport not allowed for the protocol", minimal + "services: [{name: r, protocol: rtsp, transport: udp, port: 554}]\n",
         {{3, 49, "services[0].transport: rtsp runs over tcp only"}}},
        {"transport listed twice", minimal + "services: [{name: r, protocol: sip, transport: [tcp, tcp], port: 5060}]\n",
         {{3, 48, "services[0].transport: lists tcp twice"}}},
        {"empty services list", minimal + "services: []\n", {{3, 11, "services: needs at least one service"}}},
    };
    for (const ErrorCase& c : cases) check_case(c);
}

BOOST_AUTO_TEST_CASE(several_mistakes_are_all_reported) {
    const std::string yaml =
        "vip: 198.18.100.10\n"                                                          // 1
        "lan_interface: eth1\n"                                                         // 2
        "queue: {first: 0, count: 0, max_len: 4096, fail_open: no}\n"                  // 3
        "services:\n"                                                                   // 4
        "  - {name: sip, protocol: sip, port: 5060, flow_timeout: 30}\n"                // 5
        "nodes:\n"                                                                      // 6
        "  - {id: 1, name: node1, address: 198.18.2.11, mac: '02:00:00:00:02:11'}\n"    // 7
        "  - {id: 2, name: node2, address: 198.18.2.12, mac: '02:00:00:00:02:11'}\n"    // 8
        "  - {id: 0, name: node3, address: 198.18.2.13, mac: '02:00:00:00:02:13'}\n"    // 9
        "admission:\n"                                                                  // 10
        "  interval: 200ms\n"                                                           // 11
        "  t1: 0.9\n"                                                                   // 12
        "  t2: 0.8\n"                                                                   // 13
        "  drop_mode: sometimes\n"                                                      // 14
        "scheduler: {algorithm: shell, windw: 8}\n"                                     // 15
        "metrics: {listen: '127.0.0.1:9740'}\n"                                         // 16
        "metrics: {listen: '127.0.0.1:9741'}\n";                                        // 17
    check_case({"nine mistakes, nine errors in file order",
                yaml,
                {{3, 26, "queue.count: 0 is out of range 1..64"},
                 {3, 55, "queue.fail_open: expected true or false, got 'no'"},
                 {5, 58, "services[0].flow_timeout: duration '30' has no unit"},
                 {8, 53, "nodes[1].mac: MAC 02:00:00:00:02:11 is already used at line 7"},
                 {9, 10, "nodes[2].id: 0 is out of range 1..250"},
                 {13, 7, "admission.t2 (0.8) must be >= admission.t1 (0.9)"},
                 {14, 14, "admission.drop_mode: unknown value 'sometimes'; allowed: random, paced"},
                 {15, 31, "scheduler: unknown key 'windw'; allowed: algorithm, window"},
                 {17, 1, "duplicate key 'metrics' (first given at line 16)"}}});
}

BOOST_AUTO_TEST_CASE(hostile_input_is_bounded) {
    // Flow nesting beyond the bound is refused before yaml-cpp parses it, at the bracket.
    check_case({"100000 '[' refused at the 65th", std::string(100000, '['),
                {{1, 65, "YAML nesting deeper than 64 levels"}}});
    // Block nesting is yaml-cpp's DepthGuard's job; it must become an error, not a crash.
    std::string block;
    for (int i = 0; i < 20000; ++i) block += "- ";
    block += "x\n";
    const ConfigLoad<DispatcherConfig> deep = load_dispatcher_config_from_string(block, file_name);
    BOOST_TEST_REQUIRE(deep.errors.size() == 1u);
    BOOST_TEST(deep.errors[0].message.find("nesting deeper than yaml-cpp accepts") != std::string::npos);
    // One bad mapping reused through aliases: the error list stops at its cap.
    std::string bomb = minimal + "x: &bad {";
    for (int i = 0; i < 200; ++i) bomb += "k" + std::to_string(i) + ": 1, ";
    bomb += "}\nservices: [";
    for (int i = 0; i < 2000; ++i) bomb += "*bad, ";
    bomb += "]\n";
    const ConfigLoad<DispatcherConfig> capped = load_dispatcher_config_from_string(bomb, file_name);
    BOOST_TEST_REQUIRE(capped.errors.size() == ConfigErrorList::default_cap + 1);
    BOOST_TEST(capped.errors.back().message == "too many errors; stopped after 1000");
    // Oversized text is refused without parsing.
    const ConfigLoad<DispatcherConfig> huge = load_dispatcher_config_from_string(std::string(max_config_bytes + 1, '#'), file_name);
    BOOST_TEST_REQUIRE(huge.errors.size() == 1u);
    BOOST_TEST(huge.errors[0].message.find("larger than") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace sara
