package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"tandem/internal/account"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
)

// TestMain lets the test binary stand in for the tandem binary: with TANDEM_TEST_EXEC
// set it runs the command line it was given, so tests can start real server processes
// and kill them.
func TestMain(m *testing.M) {
	if os.Getenv("TANDEM_TEST_EXEC") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// process is a tandem subprocess.
type process struct {
	cmd *exec.Cmd
	out *bytes.Buffer
}

func startProcess(t *testing.T, args ...string) *process {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "TANDEM_TEST_EXEC=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, out: &out}
	t.Cleanup(func() { p.kill() })
	return p
}

func (p *process) kill() {
	if p.cmd.ProcessState == nil {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		_ = p.cmd.Wait()
	}
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestCrashKeepsTheBacklog: the sender is killed with SIGKILL while a backlog is queued
// for a partner that is down; after both come back, the backlog is delivered, nothing
// lost and nothing duplicated.
func TestCrashKeepsTheBacklog(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	dir := t.TempDir()
	// The sender's account, created by the CLI on its data dir.
	created := createAcme(t, dir)
	senderAddr := freeAddr(t)
	serve := []string{"serve", "--data-dir", dir, "--addr", senderAddr, "--allow-private-partners", "--rate-limit", "-1", "--sharing-max-backoff", "300ms", "--log-level", "error"}
	sender := startProcess(t, serve...)
	_, port, _ := net.SplitHostPort(senderAddr)
	desk := &testkit.Desk{Addr: senderAddr, Port: port}
	waitUp(t, senderAddr)
	a := &testkit.Acct{Desk: desk, Sub: "acme", Plan: account.Enterprise, Admin: testkit.Cred{Email: "admin@acme.test", Token: created.Token}}

	// The receiver: a real server in this process, restarted later on the same database.
	dbB := storetest.Open(t, store.SQLite)
	recv := testkit.StartDB(t, dbB)
	b := recv.Account(t, "globex", account.Enterprise)
	inv := a.Do(t, a.Admin, "POST", "/api/v2/sharing_agreements", map[string]any{"sharing_agreement": map[string]any{"remote_url": recv.SharingURL("globex")}}).Want(t, 201).Obj("sharing_agreement")
	agB := testkit.ID(b.Do(t, b.Admin, "GET", "/api/v2/sharing_agreements", nil).List("sharing_agreements")[0], "id")
	b.Do(t, b.Admin, "PUT", fmt.Sprintf("/api/v2/sharing_agreements/%d", agB), map[string]any{"sharing_agreement": map[string]any{"status": "accepted"}}).Want(t, 200)
	const tickets, rounds = 5, 10
	var ids []int64
	for i := 0; i < tickets; i++ {
		tk := a.Do(t, a.Admin, "POST", "/api/v2/tickets", map[string]any{"ticket": map[string]any{"subject": fmt.Sprintf("Crash %d", i), "comment": map[string]any{"body": "start"}}}).Want(t, 201).Obj("ticket")
		id := testkit.ID(tk, "id")
		a.Do(t, a.Admin, "PUT", fmt.Sprintf("/api/v2/tickets/%d", id), map[string]any{"ticket": map[string]any{"sharing_agreement_ids": []int64{testkit.ID(inv, "id")}}}).Want(t, 200)
		ids = append(ids, id)
	}
	copies := func() map[string]int64 {
		m := map[string]int64{}
		for _, tk := range b.Do(t, b.Admin, "GET", "/api/v2/tickets", nil).List("tickets") {
			m[tk["subject"].(string)] = testkit.ID(tk, "id")
		}
		return m
	}
	testkit.Eventually(t, 20*time.Second, "the shared tickets at the receiver", func() bool { return len(copies()) == tickets })
	recvAddr := recv.Addr
	recv.Stop()
	for r := 0; r < rounds; r++ {
		for i, id := range ids {
			a.Do(t, a.Admin, "PUT", fmt.Sprintf("/api/v2/tickets/%d", id), map[string]any{"ticket": map[string]any{"comment": map[string]any{"body": fmt.Sprintf("t%d r%02d", i, r)}}}).Want(t, 200)
		}
	}
	pending := func() int64 {
		ag := a.Do(t, a.Admin, "GET", fmt.Sprintf("/api/v2/sharing_agreements/%d", testkit.ID(inv, "id")), nil).Want(t, 200).Obj("sharing_agreement")
		return testkit.ID(ag["delivery"].(map[string]any), "pending")
	}
	if pending() == 0 {
		t.Fatal("no backlog queued before the crash")
	}
	sender.kill() // SIGKILL: no graceful shutdown, the backlog is only in the database
	recv = testkit.StartDB(t, dbB, testkit.WithAddr(recvAddr))
	b.Desk = recv
	startProcess(t, serve...)
	waitUp(t, senderAddr)
	byName := copies()
	// Nothing left to deliver on either side, so that a duplicate cannot still be on its way
	// when the comments are compared below.
	testkit.Eventually(t, 60*time.Second, "the sender's backlog delivered", func() bool {
		return pending() == 0 && recv.Srv.Sharing.Drained(t.Context())
	})
	for i := 0; i < tickets; i++ {
		bid := byName[fmt.Sprintf("Crash %d", i)]
		var got []string
		testkit.Eventually(t, 30*time.Second, fmt.Sprintf("ticket %d's backlog", i), func() bool {
			got = got[:0]
			for _, c := range b.Do(t, b.Admin, "GET", fmt.Sprintf("/api/v2/tickets/%d/comments", bid), nil).List("comments") {
				got = append(got, c["body"].(string))
			}
			return len(got) >= rounds+1
		})
		want := []string{"start"}
		for r := 0; r < rounds; r++ {
			want = append(want, fmt.Sprintf("t%d r%02d", i, r))
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("ticket %d at the receiver:\n got %v\nwant %v", i, got, want)
		}
	}
}

// cliAccount is what "tandem account create --json" printed.
type cliAccount struct {
	Token string `json:"api_token"`
}

// createAcme creates the enterprise account acme (admin@acme.test) on a data dir with
// the CLI, as an operator would before starting the server.
func createAcme(t *testing.T, dir string) cliAccount {
	t.Helper()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"tandem", "account", "create", "--data-dir", dir, "--subdomain", "acme", "--plan", "enterprise", "--admin-email", "admin@acme.test", "--json"},
		func(string) string { return "" }, &out, &out); err != nil {
		t.Fatalf("account create: %v\n%s", err, out.String())
	}
	var created cliAccount
	if err := json.Unmarshal(out.Bytes(), &created); err != nil {
		t.Fatalf("account create printed %q: %v", out.String(), err)
	}
	return created
}

func waitUp(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no server at %s", addr)
}
