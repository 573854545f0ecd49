// Package clientaddr finds the address of the client behind a request, once, for every
// surface (limits, logs). Behind a load balancer or reverse proxy the direct peer is the
// proxy, and the client is named in X-Forwarded-For; that header is believed only when
// the direct peer is a trusted proxy (the operator's --trusted-proxies), since any
// client can send it.
package clientaddr

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

type ctxKey struct{}

// Resolver reads client addresses, trusting forwarding headers from some peers.
type Resolver struct {
	trusted []netip.Prefix
}

// New returns a resolver that believes X-Forwarded-For from peers in trusted.
func New(trusted []netip.Prefix) *Resolver { return &Resolver{trusted: trusted} }

// Middleware puts the request's client address in its context (see FromRequest).
func (res *Resolver) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, res.Addr(r))))
	})
}

// Addr returns the client address of r: the direct peer, unless that is a trusted
// proxy, in which case X-Forwarded-For is read from the right (the hop nearest to us)
// past every trusted proxy; the first address that is not one is the client. Entries
// further left were written by the client itself and are not believed.
func (res *Resolver) Addr(r *http.Request) string {
	peer := hostOf(r.RemoteAddr)
	addr, err := netip.ParseAddr(peer)
	if err != nil || !res.isTrusted(addr) {
		return peer
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(hostOf(strings.TrimSpace(hops[i])))
		if err != nil {
			break // garbage: the last believable address is the proxy that sent it
		}
		addr = hop.Unmap()
		if !res.isTrusted(addr) {
			break
		}
	}
	return addr.String()
}

func (res *Resolver) isTrusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range res.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// FromRequest returns the client address the middleware found, or the direct peer's
// address for a request that did not pass through it.
func FromRequest(r *http.Request) string {
	if a, ok := r.Context().Value(ctxKey{}).(string); ok {
		return a
	}
	return hostOf(r.RemoteAddr)
}

func hostOf(hostport string) string {
	if host, _, err := net.SplitHostPort(hostport); err == nil {
		return host
	}
	return strings.Trim(hostport, "[]")
}

// ParsePrefixes reads a comma-separated list of CIDRs or single addresses, such as
// "10.0.0.0/8, 192.168.1.7, fd00::/8".
func ParsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if p, err := netip.ParsePrefix(part); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(part)
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR such as 10.0.0.0/8 or an IP address", part)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}
