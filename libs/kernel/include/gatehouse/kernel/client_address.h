// Who the client of a call is, for limits kept per client (anonymous calls, sign-in failures).
//
// gRPC names the TCP peer. Behind a reverse proxy, an ingress or the storefront's backend that is
// the proxy, shared by every client; the client's address is then in the `x-forwarded-for` header
// the proxy adds. Anyone can send that header, so it is read only when the peer is a trusted proxy
// (setting server.trusted_proxies), and then from the right: each trusted hop appends the address
// it saw, so the rightmost address that is not itself a trusted proxy is the first one no trusted
// party could have forged. IPv6 clients are keyed by their /64 prefix: one subscriber line usually
// gets a whole /64, and keying single addresses would let a client rotate through it.
//
// Pure (no gRPC; grpc_auth.h reads the call's peer and header). Thread safety: const after
// construction, resolve() may be called concurrently.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::kernel {

class ClientAddressResolver final {
  public:
    // `trusted_proxies`: CIDRs or single addresses ("10.0.0.0/8", "192.168.1.7", "fd00::/8").
    // Throws ConfigError naming `setting` on a malformed entry.
    ClientAddressResolver(const std::vector<std::string>& trusted_proxies, const std::string& setting);
    ClientAddressResolver() = default;  // trusts no proxy

    // The client's key. `peer` as gRPC names it ("ipv4:203.0.113.7:5555", "ipv6:[2001:db8::1]:5555",
    // also percent-encoded "ipv6:%5B...%5D:5555", "unix:/path"); `forwarded_for`: the values of the
    // call's x-forwarded-for headers joined with ",", empty if none. Returns "203.0.113.7",
    // "2001:db8:0:0::/64", or the peer unchanged when it is not an IP address.
    [[nodiscard]] std::string resolve(std::string_view peer, std::string_view forwarded_for = {}) const;

  private:
    struct Network {
        std::array<std::uint8_t, 16> bytes{};  // IPv4 as an IPv4-mapped IPv6 address
        int prefix_bits = 0;                   // of the 128
    };
    [[nodiscard]] bool trusted(const std::array<std::uint8_t, 16>& address) const;
    std::vector<Network> trusted_;
};

}  // namespace gatehouse::kernel
