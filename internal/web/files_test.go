package web_test

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"net/url"
	"testing"

	"tandem/internal/store/storetest"
)

func testPNG(t *testing.T) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 64, 48))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// uploadFile posts a file as app.js does and returns its token.
func (c *client) uploadFile(t *testing.T, name string, body []byte) string {
	t.Helper()
	p := c.do("POST", "/uploads?filename="+url.QueryEscape(name), bytes.NewReader(body),
		http.Header{"X-Csrf-Token": {c.csrf}, "Content-Type": {"application/octet-stream"}})
	if p.Status != 200 {
		t.Fatalf("upload %s: %d %s", name, p.Status, p.Body)
	}
	return regexpFind(t, p.Body, `"token":"([0-9a-f]+)"`)
}

// TestAttachmentsInPages: an agent attaches files to a public reply and to an internal
// note from the ticket page; the thread shows the image inline and the other file as a
// chip; the requester's help center page shows only the public reply's file, and
// /files/{id} follows the comment's visibility for every user.
func TestAttachmentsInPages(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			f := newFixture(t, d)
			agent := f.signedIn(t, f.agent)
			ticketPath := fmt.Sprintf("/agent/tickets/%d", f.ticket)
			agent.get(ticketPath).want(t, 200).has(t, "Attach files", "data-attach-input")
			img := agent.uploadFile(t, "pole.png", testPNG(t))
			doc := agent.uploadFile(t, "manual.txt", []byte("assembly manual"))
			agent.post(ticketPath, url.Values{"comment": {"Here is the photo and the manual."}, "visibility": {"public"}, "uploads": {img, doc}}).want(t, 303)
			secret := agent.uploadFile(t, "supplier-invoice.txt", []byte("cost price 4.20"))
			agent.post(ticketPath, url.Values{"comment": {"Supplier invoice attached."}, "visibility": {"internal"}, "uploads": {secret}}).want(t, 303)
			page := agent.get(ticketPath).want(t, 200).has(t, "pole.png", "manual.txt", "supplier-invoice.txt", "data-lightbox", "TXT")
			imgID := regexpFind(t, page.Body, `<a class="file-img" href="/files/(\d+)"`)
			secretID := regexpFind(t, page.Body, `href="/files/(\d+)" download><span class="file-icon" aria-hidden="true">TXT</span> <span class="file-name">supplier-invoice.txt`)
			// A used token cannot be attached again.
			p := agent.post(ticketPath, url.Values{"comment": {"again"}, "uploads": {img}}).want(t, 303)
			agent.get(p.Location).has(t, "unknown, expired or already used").hasNot(t, ">again<")

			alice := f.signedIn(t, f.alice) // the requester
			alice.get(fmt.Sprintf("/hc/requests/%d", f.ticket)).want(t, 200).has(t, "pole.png", "manual.txt").hasNot(t, "supplier-invoice")
			bob := f.signedIn(t, f.bob) // same organization, which shares tickets
			carol := f.signedIn(t, f.carol)
			for _, c := range []struct {
				who  string
				cl   *client
				id   string
				want int
			}{
				{"agent, image", agent, imgID, 200}, {"agent, internal file", agent, secretID, 200},
				{"requester, image", alice, imgID, 200}, {"requester, internal file", alice, secretID, 404},
				{"colleague, image", bob, imgID, 200}, {"colleague, internal file", bob, secretID, 404},
				{"other customer, image", carol, imgID, 404},
			} {
				if p := c.cl.get("/files/" + c.id); p.Status != c.want {
					t.Errorf("%s: /files/%s = %d, want %d", c.who, c.id, p.Status, c.want)
				}
			}
			if p := newClient(t, f.desk, f.acct.Sub).get("/files/" + imgID); p.Status == 200 {
				t.Error("a signed-out visitor got a file")
			}

			// The help center's new-request form takes attachments too.
			carol.get("/hc/requests/new").want(t, 200).has(t, "data-attach-input")
			tok := carol.uploadFile(t, "receipt.png", testPNG(t))
			p = carol.post("/hc/requests", url.Values{"subject": {"Broken zip"}, "description": {"See the receipt."}, "uploads": {tok}}).want(t, 303)
			carol.get(p.Location).want(t, 200).has(t, "receipt.png")
		})
	}
}
