package nodezendesk_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"tandem/internal/account"
	"tandem/internal/server"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
	"tandem/internal/webhook"
)

// TestNodeZendeskManagesWebhooks: node-zendesk's webhooks client creates, shows,
// updates, patches, lists, tests and deletes a webhook, reads and resets its signing
// secret and reads its invocations; the test call reaches the receiver signed.
func TestNodeZendeskManagesWebhooks(t *testing.T) {
	node := needNode(t)
	for _, dia := range storetest.Dialects() {
		t.Run(string(dia), func(t *testing.T) {
			t.Parallel()
			d := testkit.Start(t, dia, func(c *server.Config) { c.DefaultAccount = "acme" })
			a := d.Account(t, "acme", account.Enterprise)
			var mu sync.Mutex
			var bodies []string
			var sigs []string
			rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				mu.Lock()
				bodies = append(bodies, string(b))
				sigs = append(sigs, r.Header.Get(webhook.SignatureTimestampHeader)+"|"+r.Header.Get(webhook.SignatureHeader)+"|"+r.Header.Get("Authorization"))
				mu.Unlock()
				_, _ = w.Write([]byte("received"))
			}))
			defer rc.Close()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, node, "webhooks.js")
			cmd.Env = append(os.Environ(), "ZD_URL=http://"+d.Addr+"/api/v2", "ZD_USER="+a.Admin.Email, "ZD_TOKEN="+a.Admin.Token, "HOOK_URL="+rc.URL+"/in")
			var stderr strings.Builder
			cmd.Stderr = &stderr
			raw, err := cmd.Output()
			if err != nil {
				t.Fatalf("node webhooks.js: %v\n%s", err, stderr.String())
			}
			var got struct {
				Created, Shown, AfterUpdates map[string]any
				Listed, ListedAfterDelete    []string
				Secret, ResetSecret          map[string]any
				Test                         map[string]any
				Invocations                  map[string]any
			}
			if err := json.Unmarshal(raw, &got); err != nil {
				t.Fatalf("output %q: %v", raw, err)
			}
			id, _ := got.Created["id"].(string)
			if id == "" || got.Shown["id"] != id || got.AfterUpdates["name"] != "Renamed by node" || got.AfterUpdates["status"] != "inactive" {
				t.Fatalf("created %v, shown %v, after updates %v", got.Created, got.Shown, got.AfterUpdates)
			}
			if len(got.Listed) != 1 || got.Listed[0] != id || len(got.ListedAfterDelete) != 0 {
				t.Fatalf("listed %v, after delete %v", got.Listed, got.ListedAfterDelete)
			}
			s1, _ := got.Secret["signing_secret"].(map[string]any)
			s2, _ := got.ResetSecret["signing_secret"].(map[string]any)
			if s1["secret"] == nil || s1["secret"] == s2["secret"] {
				t.Fatalf("secrets %v, %v", got.Secret, got.ResetSecret)
			}
			resp, _ := got.Test["response"].(map[string]any)
			if resp["status"] != float64(200) || resp["body"] != "received" {
				t.Fatalf("test = %v", got.Test)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(bodies) != 1 || bodies[0] != `{"from":"node"}` {
				t.Fatalf("receiver got %v", bodies)
			}
			parts := strings.SplitN(sigs[0], "|", 3)
			if parts[1] != webhook.Signature(s2["secret"].(string), parts[0], []byte(bodies[0])) || parts[2] != "Bearer node-token" {
				t.Fatalf("test call signed %q with secret %v", sigs[0], s2["secret"])
			}
			if _, ok := got.Invocations["invocations"]; !ok {
				t.Fatalf("invocations = %v", got.Invocations)
			}
		})
	}
}
