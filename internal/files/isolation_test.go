package files_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"tandem/internal/files"
	"tandem/internal/testkit"
)

// TestAttachmentIsolation fetches every attachment URL (JSON and content, thumbnails,
// signed links) as every role, from both accounts and as a partner holding a link:
// each sees exactly what the comment's visibility allows, and a 404 tells nothing.
func attachmentIsolation(t *testing.T, f *fixture) {
	ctx := context.Background()
	up := func(cred testkit.Cred, a *testkit.Acct, name string) (string, map[string]any) {
		r := upload(t, a, cred, name, bytes.NewReader(pngBytes(t, 30, 20)), "").Want(t, 201)
		return r.Obj("upload")["token"].(string), attachmentOf(r)
	}
	pubTok, pub := up(f.admin, f.acme, "public.png")
	privTok, priv := up(f.admin, f.acme, "private.png")
	_, pending := up(f.agent, f.acme, "pending.png")
	_, foreign := up(f.otherAdmin, f.other, "foreign.png")
	tid, _ := ticketWith(t, f, true, pubTok)
	f.acme.Do(t, f.admin, "PUT", fmt.Sprintf("/api/v2/tickets/%d.json", tid), map[string]any{"ticket": map[string]any{
		"comment": map[string]any{"body": "internal: supplier invoice", "public": false, "uploads": []string{privTok}}}}).Want(t, 200)
	thumb := pub["thumbnails"].([]any)[0].(map[string]any)

	type who struct {
		name string
		acct *testkit.Acct
		cred testkit.Cred
	}
	admin, agent := who{"admin", f.acme, f.admin}, who{"agent", f.acme, f.agent}
	restricted, requester := who{"agent restricted to assigned tickets", f.acme, f.restricted}, who{"requester", f.acme, f.requester}
	stranger, anon := who{"another end user", f.acme, f.stranger}, who{"anonymous", f.acme, testkit.Anonymous}
	otherOnAcme, otherAdmin := who{"other account's admin at acme's host", f.acme, f.otherAdmin}, who{"other account's admin", f.other, f.otherAdmin}
	rows := []struct {
		what string
		att  map[string]any
		by   who
		want int
	}{
		{"public", pub, admin, 200}, {"public", pub, agent, 200}, {"public", pub, restricted, 404},
		{"public", pub, requester, 200}, {"public", pub, stranger, 404}, {"public", pub, anon, 401},
		{"public", pub, otherOnAcme, 401}, {"public", pub, otherAdmin, 404},
		{"public thumbnail", thumb, requester, 200}, {"public thumbnail", thumb, stranger, 404}, {"public thumbnail", thumb, otherAdmin, 404},
		{"private", priv, admin, 200}, {"private", priv, agent, 200}, {"private", priv, restricted, 404},
		{"private", priv, requester, 404}, {"private", priv, stranger, 404}, {"private", priv, otherAdmin, 404},
		{"private thumbnail", priv["thumbnails"].([]any)[0].(map[string]any), requester, 404},
		{"pending upload", pending, agent, 200}, {"pending upload", pending, admin, 404}, {"pending upload", pending, requester, 404},
		{"other account's", foreign, admin, 404}, {"other account's", foreign, otherAdmin, 200},
	}
	for _, row := range rows {
		id := testkit.ID(row.att, "id")
		for _, path := range []string{fmt.Sprintf("/api/v2/attachments/%d.json", id), fmt.Sprintf("/api/v2/attachments/%d/content", id)} {
			r, err := row.by.acct.Try(row.by.cred, "GET", path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != row.want {
				t.Errorf("%s attachment, %s, GET %s: %d, want %d", row.what, row.by.name, path, r.Status, row.want)
			}
			if r.Status != 200 && bytes.Contains(r.Body, []byte(".png")) {
				t.Errorf("%s attachment, %s: the refusal names the file: %s", row.what, row.by.name, r.Body)
			}
		}
	}
	// Comment lists: the requester never sees the private comment's file.
	body := string(f.acme.Do(t, f.requester, "GET", fmt.Sprintf("/api/v2/requests/%d/comments.json", tid), nil).Want(t, 200).Body)
	if strings.Contains(body, "private.png") || !strings.Contains(body, "public.png") {
		t.Errorf("requester's comments: %s", body)
	}
	body = string(f.acme.Do(t, f.requester, "GET", fmt.Sprintf("/api/v2/tickets/%d/audits.json", tid), nil).Body)
	if strings.Contains(body, "private.png") {
		t.Errorf("an end user's audits show the private file")
	}

	// A partner (or a mail recipient) holds only a signed link: valid until it
	// expires, for that file, at that account's address.
	svc := f.desk.Srv.Files
	a, err := files.Get(ctx, f.desk.DB.R(), f.acme.ID, testkit.ID(pub, "id"))
	if err != nil {
		t.Fatal(err)
	}
	link, err := svc.SignedPath(ctx, f.acme.ID, a, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	expired, _ := svc.SignedPath(ctx, f.acme.ID, a, time.Now().Add(-time.Second))
	privA, _ := files.Get(ctx, f.desk.DB.R(), f.acme.ID, testkit.ID(priv, "id"))
	privLink, _ := svc.SignedPath(ctx, f.acme.ID, privA, time.Now().Add(time.Hour))
	links := []struct {
		what string
		acct *testkit.Acct
		path string
		want int
	}{
		{"valid link", f.acme, link, 200},
		{"valid link at another account's address", f.other, link, 404},
		{"expired link", f.acme, expired, 404},
		{"tampered signature", f.acme, link[:len(link)-2] + "00", 404},
		{"signature moved to another file", f.acme, strings.Replace(link, fmt.Sprintf("/attachments/%d/", a.ID), fmt.Sprintf("/attachments/%d/", privA.ID), 1), 404},
		{"no signature", f.acme, strings.Split(link, "?")[0], 404},
		{"link to the private file", f.acme, privLink, 200},
	}
	for _, l := range links {
		r, err := l.acct.Try(testkit.Anonymous, "GET", l.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != l.want {
			t.Errorf("%s: %d, want %d", l.what, r.Status, l.want)
		}
	}
}
