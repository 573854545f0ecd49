package demo_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"tandem/internal/demo"
	"tandem/internal/server"
	"tandem/internal/store"
	"tandem/internal/testkit"
	"tandem/internal/ticket"
)

// The README's sharing example, pasted as is on a fresh demo, gives an accepted agreement
// and a shared ticket. The test reads the commands from the README itself, so the two
// cannot drift apart. It runs on SQLite only: the README's demo is the embedded database
// (TestSeedTwice covers seeding on both).
func TestReadmeSharingExample(t *testing.T) {
	t.Parallel()
	cmds := readmeCurls(t, "## Sharing a ticket with another help desk")
	if len(cmds) < 4 {
		t.Fatalf("found %d curl commands in the README's sharing example", len(cmds))
	}
	for _, d := range []store.Dialect{store.SQLite} {
		t.Run(string(d), func(t *testing.T) {
			desk := testkit.Start(t, d, func(c *server.Config) { c.RateLimit = 0 })
			info, err := demo.SeedWith(context.Background(), desk.Srv, desk.Addr, demo.Options{SkipAI: true})
			if err != nil {
				t.Fatal(err)
			}
			// The README's ticket counts are the demo's (issue 19 item 23): Acme's own, and
			// Globex's with the copies Acme shared.
			readme := readmeText(t)
			for _, c := range []struct{ sub, re string }{{"acme", `and (\d+) tickets about orders`}, {"globex", `shared with it \((\d+) tickets\)`}} {
				m := regexp.MustCompile(c.re).FindStringSubmatch(readme)
				if m == nil {
					t.Fatalf("the README no longer says %s", c.re)
				}
				// The demo settles for a while, then prints its counts; on a loaded machine
				// the last shared copy may still be on its way, so wait for it here.
				acct, err := desk.Srv.Accounts.BySubdomain(context.Background(), c.sub)
				if err != nil {
					t.Fatal(err)
				}
				testkit.Eventually(t, time.Minute, c.sub+"'s "+m[1]+" tickets, as the README says", func() bool {
					n, err := ticket.LiveCount(context.Background(), desk.DB.R(), acct.ID)
					return err == nil && strconv.Itoa(n) == m[1]
				})
			}
			vars := map[string]string{"$ACME": info.Account("acme").APIToken, "$GLOBEX": info.Account("globex").APIToken}
			for _, args := range cmds {
				status, body := runCurl(t, desk.Addr, args, vars)
				if status/100 != 2 {
					t.Fatalf("%s: %d %s", strings.Join(args, " "), status, body)
				}
			}
			acme := admin(t, desk, info, "acme")
			ag := acme.Do(t, acme.Admin, "GET", "/api/v2/sharing_agreements/4.json", nil).Want(t, http.StatusOK).Obj("sharing_agreement")
			if ag["status"] != "accepted" || ag["type"] != "inbound" {
				t.Fatalf("Acme's agreement 4 = %v, want an accepted inbound agreement", ag)
			}
			testkit.Eventually(t, 10*time.Second, "Globex's ticket 8 at Acme", func() bool {
				list := acme.Do(t, acme.Admin, "GET", "/api/v2/tickets.json?sort_order=desc&per_page=1", nil).Want(t, http.StatusOK).List("tickets")
				return len(list) == 1 && list[0]["subject"] == "Lead time for the autumn restock"
			})
		})
	}
}

// readmeText is the README.
func readmeText(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// readmeCurls returns the curl commands of the first sh block after heading, each as
// its shell words (continuation lines joined).
func readmeCurls(t *testing.T, heading string) [][]string {
	t.Helper()
	s := readmeText(t)
	i := strings.Index(s, heading)
	if i < 0 {
		t.Fatalf("README has no %q", heading)
	}
	s = s[i:]
	start := strings.Index(s, "```sh\n")
	end := strings.Index(s[start+6:], "```")
	if start < 0 || end < 0 {
		t.Fatalf("no sh block after %q", heading)
	}
	block := strings.ReplaceAll(s[start+6:start+6+end], "\\\n", " ")
	var out [][]string
	for line := range strings.SplitSeq(block, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "curl ") {
			out = append(out, shellWords(t, line))
		}
	}
	return out
}

// shellWords splits a command line as sh would, for the quoting the README uses (single
// quotes, no escapes); a # outside quotes starts a comment.
func shellWords(t *testing.T, line string) []string {
	t.Helper()
	var words []string
	var cur strings.Builder
	inWord, quoted := false, false
	for _, r := range line {
		switch {
		case quoted && r == '\'':
			quoted = false
		case quoted:
			cur.WriteRune(r)
		case r == '\'':
			quoted, inWord = true, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case r == '#' && !inWord:
			return words
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quoted {
		t.Fatalf("unterminated quote in %q", line)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// runCurl performs a curl command (the options the README uses: -u, -H, -d, -X) against
// the server at addr, keeping the URL's host as the Host header, as curl does when
// *.localhost resolves to loopback.
func runCurl(t *testing.T, addr string, args []string, vars map[string]string) (int, string) {
	t.Helper()
	method, body, user, rawURL := "", "", "", ""
	header := http.Header{}
	for i := 1; i < len(args); i++ {
		a := args[i]
		for k, v := range vars {
			a = strings.ReplaceAll(a, k, v)
		}
		switch a {
		case "-u", "-H", "-d", "-X":
			if i+1 >= len(args) {
				t.Fatalf("%s without a value in %v", a, args)
			}
			i++
			v := args[i]
			for k, val := range vars {
				v = strings.ReplaceAll(v, k, val)
			}
			switch a {
			case "-u":
				user = v
			case "-H":
				name, value, _ := strings.Cut(v, ":")
				header.Add(strings.TrimSpace(name), strings.TrimSpace(value))
			case "-d":
				body = v
			case "-X":
				method = v
			}
		default:
			if strings.HasPrefix(a, "-") {
				t.Fatalf("option %s of the README's curl is not understood by this test", a)
			}
			rawURL = a
		}
	}
	if method == "" {
		method = http.MethodGet
		if body != "" {
			method = http.MethodPost
		}
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	host := u.Host
	u.Host = addr
	req, err := http.NewRequest(method, u.String(), strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	req.Header = header
	if name, pass, ok := strings.Cut(user, ":"); ok {
		req.SetBasicAuth(name, pass)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if !json.Valid(b) {
		t.Fatalf("%s %s answered %d with no JSON: %q", method, rawURL, res.StatusCode, b)
	}
	return res.StatusCode, string(b)
}
