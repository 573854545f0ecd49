package demo

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/url"
)

// seedAttachments gives the account's first open ticket a customer's photo of the
// defect and an agent's internal note with a file, through the uploads API as any
// client would, so the thread shows an inline image and a file chip.
func seedAttachments(ctx context.Context, a *accountSeed) error {
	id := 0
	for i, t := range a.spec.Tickets {
		if t.Status != "closed" && t.Status != "solved" {
			id = i + 1 // tickets are numbered in the order the demo creates them
			break
		}
	}
	if id == 0 {
		return nil
	}
	var tk struct {
		Ticket struct {
			Requester int64 `json:"requester_id"`
		} `json:"ticket"`
	}
	path := fmt.Sprintf("/api/v2/tickets/%d.json", id)
	if err := a.api.do(ctx, http.MethodGet, path, nil, &tk); err != nil {
		return err
	}
	photo, err := a.upload(ctx, "defect-photo.png", defectPhoto())
	if err != nil {
		return err
	}
	note, err := a.upload(ctx, "supplier-rma-form.txt", []byte("RMA form\nSupplier: Globex\nPart: hinge assembly\nReason: cracked on arrival\n"))
	if err != nil {
		return err
	}
	// A public reply with a file: its notification to the customer carries the file
	// (Admin → Outgoing mail lists it as attached).
	guide, err := a.upload(ctx, "care-guide.txt", []byte("Care guide\n1. Keep the hinge dry.\n2. Tighten the screws yearly.\n"))
	if err != nil {
		return err
	}
	for _, c := range []map[string]any{
		{"body": "Here is a photo of the crack.", "public": true, "author_id": tk.Ticket.Requester, "uploads": []string{photo}},
		{"body": "Filled in the supplier's RMA form (attached) for the replacement.", "public": false, "uploads": []string{note}},
		{"body": "Thanks for the photo! A replacement is on its way; the care guide is attached.", "public": true, "uploads": []string{guide}},
	} {
		if err := a.api.do(ctx, http.MethodPut, path, map[string]any{"ticket": map[string]any{"comment": c}}, nil); err != nil {
			return err
		}
	}
	return nil
}

// upload sends one file to /api/v2/uploads and returns its token.
func (a *accountSeed) upload(ctx context.Context, name string, data []byte) (string, error) {
	return a.api.upload(ctx, name, data)
}

// upload sends one file to /api/v2/uploads and returns its token.
func (c *client) upload(ctx context.Context, name string, data []byte) (string, error) {
	var out struct {
		Upload struct {
			Token string `json:"token"`
		} `json:"upload"`
	}
	if err := c.do(ctx, http.MethodPost, "/api/v2/uploads.json?filename="+url.QueryEscape(name), data, &out); err != nil {
		return "", err
	}
	return out.Upload.Token, nil
}

// defectPhoto draws a small picture: a grey panel with a dark crack across it.
func defectPhoto() []byte {
	const w, h = 320, 200
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			g := uint8(170 + 40*x/w)
			img.Set(x, y, color.RGBA{g, g, uint8(int(g) + 10), 255})
		}
	}
	for x := 40; x < 280; x++ {
		y := 100 + (x%23-11)*(x%7)/3
		for d := -1; d <= 1; d++ {
			img.Set(x, y+d, color.RGBA{40, 30, 30, 255})
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}
