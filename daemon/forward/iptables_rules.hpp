// SPDX-License-Identifier: GPL-2.0-or-later
// sarad's iptables rules (DESIGN §3, KERNEL-NOTES) and the one way they reach the kernel:
// a script fed to `iptables-restore --noflush` on stdin, built from the spec and from what
// `iptables-save` shows, so that one transaction per table removes the previous run's rules
// (whatever VIP they matched) and installs the new ones.
//
// The text builders are pure functions (no kernel, no processes) so they can be tested alone;
// apply_iptables() and run_command() are the only parts that start programs.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "daemon/forward/kernel_setup.hpp"

namespace sara {

// Every chain sarad owns starts with this; nothing else may use the prefix.
inline constexpr std::string_view kChainPrefix = "SARA-";

// One table's worth of sarad rules. Rules are iptables-restore arguments without the
// command ("SARA-PRE -p udp ..." is appended with -A); jumps are inserted at the head of
// their built-in chain ("-I PREROUTING 1 ...") so that no other rule can end the hook first.
struct IptablesTableRules {
    std::string table;
    std::vector<std::string> chains;  // SARA-* chains to declare (and flush)
    std::vector<std::string> rules;   // "CHAIN match... -j target"
    std::vector<std::string> jumps;   // "BUILTIN match... -j SARA-..."
};

// The rules of one IP version (4: iptables, 6: ip6tables) for a valid spec (raw: SARA-RAW;
// mangle: SARA-PRE, SARA-FWD); none when the spec has no VIP of that version.
std::vector<IptablesTableRules> sara_iptables_rules(const KernelSetupSpec& spec, int ip_version = 4);

// What `iptables-save` shows of sarad, per table: its chains and every rule elsewhere that
// jumps or goes to one of them (as printed: "-A CHAIN ...").
struct SavedSaraTable {
    std::string table;
    std::vector<std::string> chains;
    std::vector<std::string> jump_lines;
};
std::vector<SavedSaraTable> parse_saved_sara_rules(std::string_view iptables_save_output);

// The iptables-restore --noflush input that turns `saved` into `desired`: per table, declare
// and flush the desired chains, delete every saved jump, flush then delete the saved chains
// that are not desired, append the desired rules, insert the desired jumps. Empty when there
// is nothing to do (no saved state and nothing desired).
std::string build_iptables_restore_script(const std::vector<SavedSaraTable>& saved,
                                          const std::vector<IptablesTableRules>& desired);

// Reads the current rules with programs.save and applies the script with programs.restore.
// `desired` empty = remove everything of sarad's. Errors name the program, its exit status,
// its stderr and the script line it rejected.
[[nodiscard]] std::error_code apply_iptables(const IptablesPrograms& programs,
                                             const std::vector<IptablesTableRules>& desired,
                                             std::string* error_text);

struct CommandOutput {
    int exit_status = -1;  // exit code; 128 + signal number if killed by a signal
    std::string out;
    std::string err;
};

// Runs argv (no shell; argv[0] looked up in PATH, then /usr/sbin and /sbin) with `input` on
// stdin, collecting stdout and stderr. The child starts with default signal dispositions and
// an empty signal mask. An error is returned only if the program could not be run or did not
// finish within `timeout` (it is then killed); a non-zero exit status is the caller's call.
[[nodiscard]] std::error_code run_command(const std::vector<std::string>& argv, std::string_view input,
                                          CommandOutput& output, std::string* error_text,
                                          std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace sara
