#include "gatehouse/kernel/client_address.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <optional>

#include "gatehouse/kernel/errors.h"

namespace gatehouse::kernel {
namespace {

using Address = std::array<std::uint8_t, 16>;

constexpr std::array<std::uint8_t, 12> kIpv4MappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool is_ipv4(const Address& address) {
    return std::equal(kIpv4MappedPrefix.begin(), kIpv4MappedPrefix.end(), address.begin());
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
        text.remove_prefix(1);
    }
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
        text.remove_suffix(1);
    }
    return text;
}

// "%5B" -> "[", "%5D" -> "]", "%25" -> "%": gRPC percent-encodes the brackets of IPv6 peers.
std::string percent_decoded(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        unsigned value = 0;
        if (text[i] == '%' && i + 2 < text.size() &&
            std::from_chars(text.data() + i + 1, text.data() + i + 3, value, 16).ptr == text.data() + i + 3) {
            out += static_cast<char>(value);
            i += 2;
        } else {
            out += text[i];
        }
    }
    return out;
}

// An address in any form a peer name or an x-forwarded-for entry takes: "203.0.113.7",
// "203.0.113.7:5555", "2001:db8::1", "[2001:db8::1]", "[2001:db8::1]:5555"; nullopt otherwise.
std::optional<Address> parse_address(std::string_view text) {
    text = trim(text);
    std::string host;
    if (text.starts_with('[')) {
        const auto close = text.find(']');
        if (close == std::string_view::npos) {
            return std::nullopt;
        }
        host = text.substr(1, close - 1);
    } else if (std::count(text.begin(), text.end(), ':') == 1) {  // IPv4 with a port
        host = text.substr(0, text.find(':'));
    } else {
        host = text;
    }
    if (const auto zone = host.find('%'); zone != std::string::npos) {  // fe80::1%eth0
        host.resize(zone);
    }
    Address address{};
    std::array<std::uint8_t, 4> v4{};
    if (inet_pton(AF_INET, host.c_str(), v4.data()) == 1) {
        std::copy(kIpv4MappedPrefix.begin(), kIpv4MappedPrefix.end(), address.begin());
        std::copy(v4.begin(), v4.end(), address.begin() + 12);
        return address;
    }
    if (inet_pton(AF_INET6, host.c_str(), address.data()) == 1) {
        return address;
    }
    return std::nullopt;
}

// The limits' key: the IPv4 address, or the IPv6 address's /64 network.
std::string key_of(Address address) {
    std::array<char, INET6_ADDRSTRLEN> text{};
    if (is_ipv4(address)) {
        inet_ntop(AF_INET, address.data() + 12, text.data(), text.size());
        return text.data();
    }
    std::fill(address.begin() + 8, address.end(), std::uint8_t{0});
    inet_ntop(AF_INET6, address.data(), text.data(), text.size());
    return std::string(text.data()) + "/64";
}

}  // namespace

ClientAddressResolver::ClientAddressResolver(const std::vector<std::string>& trusted_proxies,
                                             const std::string& setting) {
    for (const auto& entry : trusted_proxies) {
        const auto slash = entry.find('/');
        const auto address = parse_address(std::string_view(entry).substr(0, slash));
        if (!address || entry.find('[') != std::string::npos) {
            throw ConfigError("setting " + setting + ": \"" + entry + "\" is not an IP address or CIDR");
        }
        const int family_bits = is_ipv4(*address) ? 32 : 128;
        int bits = family_bits;
        if (slash != std::string::npos) {
            const auto* first = entry.data() + slash + 1;
            const auto* last = entry.data() + entry.size();
            if (const auto [end, error] = std::from_chars(first, last, bits);
                first == last || end != last || error != std::errc() || bits < 0 || bits > family_bits) {
                throw ConfigError("setting " + setting + ": \"" + entry + "\" has no valid prefix length (0-" +
                                  std::to_string(family_bits) + ")");
            }
        }
        trusted_.push_back({*address, bits + (128 - family_bits)});
    }
}

bool ClientAddressResolver::trusted(const Address& address) const {
    return std::any_of(trusted_.begin(), trusted_.end(), [&](const Network& network) {
        const int whole = network.prefix_bits / 8;
        const int rest = network.prefix_bits % 8;
        if (!std::equal(network.bytes.begin(), network.bytes.begin() + whole, address.begin())) {
            return false;
        }
        const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
        return rest == 0 || (network.bytes[whole] & mask) == (address[whole] & mask);
    });
}

std::string ClientAddressResolver::resolve(std::string_view peer, std::string_view forwarded_for) const {
    std::string_view host = peer;
    for (const std::string_view scheme : {"ipv4:", "ipv6:"}) {
        if (host.starts_with(scheme)) {
            host.remove_prefix(scheme.size());
        }
    }
    const auto peer_address = parse_address(percent_decoded(host));
    if (!peer_address) {
        return std::string(peer);  // a unix socket or an unknown transport: one key per peer name
    }
    Address client = *peer_address;
    if (trusted(client)) {
        // Right to left through the hops: stop at the first that no trusted proxy vouches for.
        std::string_view rest = forwarded_for;
        while (!rest.empty() && trusted(client)) {
            const auto comma = rest.rfind(',');
            const auto entry = comma == std::string_view::npos ? rest : rest.substr(comma + 1);
            rest = comma == std::string_view::npos ? std::string_view() : rest.substr(0, comma);
            const auto hop = parse_address(entry);
            if (!hop) {
                break;  // garbage from beyond the trusted hops: the last address a trusted hop saw
            }
            client = *hop;
        }
    }
    return key_of(client);
}

}  // namespace gatehouse::kernel
