package peer

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"
)

// BlockedAddressError reports a refused connection to a non-public address. It is raised
// at dial time, after name resolution, so it covers every address a name resolves to,
// including one swapped in by DNS rebinding.
type BlockedAddressError struct {
	// Addr is the address a connection was attempted to, "ip:port".
	Addr string
	// Kind says why it is not public, e.g. "loopback" or "private".
	Kind string
}

// Error explains the refusal in words an admin can act on.
func (e *BlockedAddressError) Error() string {
	return fmt.Sprintf("refused to connect to %s: %s address (partner URLs must resolve to public addresses)", e.Addr, e.Kind)
}

// IsBlockedAddress reports whether err is a refusal to connect to a non-public address,
// which callers record as a configuration error rather than retrying.
func IsBlockedAddress(err error) bool {
	var be *BlockedAddressError
	return errors.As(err, &be)
}

// dialer maps *.localhost to 127.0.0.1 itself, because Go's resolver does not, and
// dials with net.Dialer, whose Control hook (guardControl) vets each resolved address.
type dialer struct {
	net *net.Dialer
}

// DialContext dials addr, mapping localhost names to 127.0.0.1. Only the dialed address
// changes: the request's Host header and TLS server name still name the original host.
func (d *dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return d.net.DialContext(ctx, network, mapLocalhost(addr))
}

// mapLocalhost rewrites "localhost:p" and "*.localhost:p" to "127.0.0.1:p" (RFC 6761).
func mapLocalhost(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return net.JoinHostPort("127.0.0.1", port)
	}
	return addr
}

// guardControl runs just before connect(2) with the resolved address and refuses
// non-public ones.
func guardControl(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &BlockedAddressError{Addr: address, Kind: "unrecognised"}
	}
	if kind := nonPublic(ap.Addr()); kind != "" {
		return &BlockedAddressError{Addr: address, Kind: kind}
	}
	return nil
}

// blockedPrefixes are non-public ranges netip.Addr has no predicate for.
var blockedPrefixes = []struct {
	prefix netip.Prefix
	kind   string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "this-network"},
	{netip.MustParsePrefix("100.64.0.0/10"), "carrier-grade NAT"},
	{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol"},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved"},
	{netip.MustParsePrefix("::/96"), "IPv4-compatible"},
	{netip.MustParsePrefix("100::/64"), "discard-only"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "local NAT64"},
	{netip.MustParsePrefix("fec0::/10"), "site-local"},
}

var (
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour = netip.MustParsePrefix("2002::/16")
)

// nonPublic returns why a is not a public unicast address, or "" if it is. IPv4 embedded
// in IPv6 (mapped, NAT64, 6to4) is judged by the IPv4 address it reaches.
func nonPublic(a netip.Addr) string {
	a = a.Unmap().WithZone("")
	if a.Is6() {
		b := a.As16()
		switch {
		case nat64.Contains(a):
			return nonPublic(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
		case sixToFour.Contains(a):
			return nonPublic(netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}))
		}
	}
	switch {
	case !a.IsValid():
		return "invalid"
	case a.IsUnspecified():
		return "unspecified"
	case a.IsLoopback():
		return "loopback"
	case a.IsPrivate():
		return "private"
	case a.IsLinkLocalUnicast(), a.IsLinkLocalMulticast():
		return "link-local"
	case a.IsMulticast():
		return "multicast"
	}
	for _, p := range blockedPrefixes {
		if p.prefix.Contains(a) {
			return p.kind
		}
	}
	return ""
}
