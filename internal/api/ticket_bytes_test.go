package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
)

// TestTicketBytesGolden: every endpoint that writes whole tickets (show, show_many,
// the lists and a view's tickets with include=slas, both incremental exports with a
// deleted ticket, create and update responses with their audit and Location, a macro
// applied) writes, byte for byte, what testdata/ticket_bytes_DIALECT.golden holds, for
// the tickets of variedTickets. The golden files were written by the map renderer the
// typed writer replaced (TANDEM_UPDATE_GOLDEN=1 rewrites them). Times near the test's
// own run, the server's port and export cursors are the only parts replaced by
// placeholders (tickets' own fixed times, such as due dates, stay).
func TestTicketBytesGolden(t *testing.T) {
	t.Parallel()
	for _, dia := range storetest.Dialects() {
		t.Run(string(dia), func(t *testing.T) {
			t.Parallel()
			goldenTicketBytes(t, exportDesk(t, dia, 1000))
		})
	}
}

func goldenTicketBytes(t *testing.T, d *testkit.Desk) {
	{
		start := time.Now().Truncate(time.Second) // as the server writes times
		v := variedTickets(t, d)
		acme := v.acme
		var out bytes.Buffer
		record := func(r *testkit.Resp, method, path string, drop ...string) {
			t.Helper()
			fmt.Fprintf(&out, "== %s %s\n%d %s\n", method, path, r.Status, r.Header.Get("Location"))
			body := r.Body
			if len(drop) > 0 {
				body = dropKeys(t, body, drop)
			}
			out.Write(body)
			out.WriteByte('\n')
		}
		get := func(path string, drop ...string) {
			t.Helper()
			record(acme.Do(t, acme.Admin, "GET", path, nil).Want(t, http.StatusOK), "GET", path, drop...)
		}
		send := func(method, path string, status int, body any) map[string]any {
			t.Helper()
			r := acme.Do(t, acme.Admin, method, path, body).Want(t, status)
			record(r, method, path)
			return r.Obj("ticket")
		}

		// A policy that sets SLA targets on urgent tickets, on calendar time.
		acme.Do(t, acme.Admin, "POST", "/api/v2/slas/policies.json", map[string]any{"sla_policy": map[string]any{
			"title":  "Urgent <b>",
			"filter": map[string]any{"all": []map[string]any{{"field": "priority", "operator": "is", "value": "urgent"}}, "any": []any{}},
			"policy_metrics": []map[string]any{
				{"priority": "urgent", "metric": "first_reply_time", "target": 600, "business_hours": false},
				{"priority": "urgent", "metric": "agent_work_time", "target": 2400, "business_hours": false},
			},
		}}).Want(t, http.StatusCreated)

		// Writes: a create with everything, a create shared at once, updates with a
		// private comment, a cleared field and a new share, an update of a shared ticket.
		mk := send("POST", "/api/v2/tickets.json", http.StatusCreated, map[string]any{"ticket": map[string]any{
			"subject": "New <i>order</i> & \"more\" 🎫", "priority": "urgent", "tags": []string{"b", "a"},
			"comment":       map[string]any{"body": "First <b>line</b>\nsecond", "public": true},
			"custom_fields": []any{map[string]any{"id": v.field["text"], "value": "ü<>"}, map[string]any{"id": v.field["multiselect"], "value": []string{"gear"}}},
			"requester":     map[string]any{"name": "Zoë \"Z\"", "email": "zoe@example.test"},
		}})
		made := testkit.ID(mk, "id")
		send("PUT", fmt.Sprintf("/api/v2/tickets/%d.json", made), http.StatusOK, map[string]any{"ticket": map[string]any{
			"status": "pending", "comment": map[string]any{"body": "Private <note>", "public": false},
			"custom_fields": []any{map[string]any{"id": v.field["text"], "value": nil}}, "additional_tags": []string{"c"},
		}})
		send("PUT", fmt.Sprintf("/api/v2/tickets/%d.json", v.created[1]), http.StatusOK, map[string]any{"ticket": map[string]any{"priority": "low"}})
		// The writes that reach the partner last, each delivered before the next: the
		// partner's writes take ids from the sequences the next response shows.
		send("POST", "/api/v2/tickets.json", http.StatusCreated, map[string]any{"ticket": map[string]any{
			"subject": "Shared at once", "comment": map[string]any{"body": "Off to the maker"}, "sharing_agreement_ids": []int64{v.agreement},
		}})
		testkit.Eventually(t, 20*time.Second, "globex receives the second copy", func() bool {
			return len(v.globex.Do(t, v.globex.Admin, "GET", "/api/v2/tickets.json", nil).Want(t, http.StatusOK).List("tickets")) == 2
		})
		send("PUT", fmt.Sprintf("/api/v2/tickets/%d.json", v.created[2]), http.StatusOK, map[string]any{"ticket": map[string]any{
			"comment": map[string]any{"body": "To the partner too"},
		}})
		testkit.Eventually(t, 20*time.Second, "globex receives the comment", func() bool {
			copyID := testkit.ID(v.globex.Do(t, v.globex.Admin, "GET", "/api/v2/tickets.json", nil).List("tickets")[0], "id")
			return len(v.globex.Do(t, v.globex.Admin, "GET", fmt.Sprintf("/api/v2/tickets/%d/comments.json", copyID), nil).List("comments")) == 2
		})

		// Reads.
		all := append([]int64{v.problem, made}, v.created...)
		for _, id := range all {
			get(fmt.Sprintf("/api/v2/tickets/%d.json", id))
		}
		get(fmt.Sprintf("/api/v2/tickets/%d.json?include=slas,users", made))
		get(fmt.Sprintf("/api/v2/tickets/%d.json?include=slas", v.created[0]))
		idList := strings.Trim(strings.ReplaceAll(fmt.Sprint(all), " ", ","), "[]")
		get("/api/v2/tickets/show_many.json?ids=" + idList)
		get("/api/v2/tickets/show_many.json?ids=" + idList + "&include=slas,organizations")
		get("/api/v2/tickets.json?include=slas")
		get(fmt.Sprintf("/api/v2/views/%d/tickets.json?include=slas", viewByTitle(t, acme, acme.Admin, "All unsolved tickets")))
		m := acme.Do(t, acme.Admin, "POST", "/api/v2/macros.json", map[string]any{"macro": map[string]any{"title": "Close <it>", "actions": []any{
			map[string]any{"field": "status", "value": "solved"},
			map[string]any{"field": "current_tags", "value": "thanked"},
			map[string]any{"field": "comment_value", "value": "Thanks {{ticket.requester.first_name}} & bye"},
		}}}).Want(t, http.StatusCreated).Obj("macro")
		get(fmt.Sprintf("/api/v2/tickets/%d/macros/%d/apply.json", v.created[0], testkit.ID(m, "id")))

		// The exports, with a deleted ticket among the changes.
		acme.Do(t, acme.Admin, "DELETE", fmt.Sprintf("/api/v2/tickets/%d.json", v.created[6]), nil).Want(t, http.StatusNoContent)
		cursorKeys := []string{"after_cursor", "after_url", "end_time", "next_page"}
		get("/api/v2/incremental/tickets.json?start_time=0", cursorKeys...)
		get("/api/v2/incremental/tickets.json?start_time=0&include=users,slas", cursorKeys...)
		get("/api/v2/incremental/tickets/cursor.json?start_time=0", cursorKeys...)
		get("/api/v2/incremental/tickets/cursor.json?start_time=0&exclude_deleted=true", cursorKeys...)

		got := normalizeRun(out.Bytes(), start, map[string]string{d.Host("acme"): "ACME", d.Host("globex"): "GLOBEX"})
		file := filepath.Join("testdata", "ticket_bytes_"+string(d.DB.Dialect)+".golden")
		if os.Getenv("TANDEM_UPDATE_GOLDEN") != "" {
			if err := os.WriteFile(file, got, 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		want, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			gl, wl := bytes.Split(got, []byte("\n")), bytes.Split(want, []byte("\n"))
			for i := 0; i < len(gl) || i < len(wl); i++ {
				var g, w []byte
				if i < len(gl) {
					g = gl[i]
				}
				if i < len(wl) {
					w = wl[i]
				}
				if !bytes.Equal(g, w) {
					j := 0
					for j < len(g) && j < len(w) && g[j] == w[j] {
						j++
					}
					t.Fatalf("%s line %d differs at byte %d:\n got …%s\nwant …%s", file, i+1, j, g[max(0, j-80):min(len(g), j+80)], w[max(0, j-80):min(len(w), j+80)])
				}
			}
		}
	}
}

// dropKeys removes keys from a JSON object, keeping every other value's bytes as they
// are (in the order of the object's sorted keys, as the server writes them).
func dropKeys(t *testing.T, body []byte, drop []string) []byte {
	t.Helper()
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil {
		t.Fatal(err)
	}
	for _, k := range drop {
		if _, ok := obj[k]; ok {
			obj[k] = json.RawMessage(`"CURSOR"`)
		}
	}
	// Re-encoding the RawMessages would compact and re-escape them: write them as read.
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Quote(k))
		b.WriteByte(':')
		b.Write(obj[k])
	}
	b.WriteByte('}')
	return b.Bytes()
}

var (
	isoTime  = regexp.MustCompile(`"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"`)
	delivery = regexp.MustCompile(`"delivery":\{"files":\{[^{}]*\},[^{}]*\}`)
	unixTime = regexp.MustCompile(`\b\d{10}\b`)
)

// normalizeRun replaces what differs from run to run: the hosts (their port), a share's
// delivery state (the delivery runs beside the test), times
// from a minute before start to a day after the test (written "NOW+Nh", N the whole hours
// after start, so an SLA target ten hours away reads as such), and
// Unix times in the same window.
func normalizeRun(b []byte, start time.Time, hosts map[string]string) []byte {
	for h, name := range hosts {
		b = bytes.ReplaceAll(b, []byte(h), []byte(name))
	}
	b = delivery.ReplaceAll(b, []byte(`"delivery":"DELIVERY"`))
	from, to := start.Add(-time.Minute), time.Now().Add(24*time.Hour)
	rel := func(at time.Time) string {
		return "NOW+" + strconv.Itoa(int(at.Sub(start).Hours())) + "h"
	}
	b = isoTime.ReplaceAllFunc(b, func(m []byte) []byte {
		at, err := time.Parse(`"2006-01-02T15:04:05Z"`, string(m))
		if err != nil || at.Before(from) || at.After(to) {
			return m
		}
		return []byte(`"` + rel(at) + `"`)
	})
	return unixTime.ReplaceAllFunc(b, func(m []byte) []byte {
		n, _ := strconv.ParseInt(string(m), 10, 64)
		at := time.Unix(n, 0)
		if at.Before(from) || at.After(to) {
			return m
		}
		return []byte(rel(at))
	})
}
