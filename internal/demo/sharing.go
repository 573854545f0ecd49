package demo

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// SharingInfo describes the demo's sharing agreement.
type SharingInfo struct {
	From, To       string // subdomains
	AgreementID    int64  // at the sender
	SharedTickets  int
	WarrantyTicket int64 // a shared ticket at the sender worth opening
	TriggerID      int64 // the trigger that shares new warranty claims
	AutoShared     int64 // a ticket the trigger shared
	// PhotoCopy is the partner's copy of the ticket whose customer sent a photo: the
	// partner fetched the file and keeps its own copy (0 if it did not arrive).
	PhotoCopy int64
}

// seedSharing sets up what Tandem exists for: Acme (the retailer) invites Globex (the
// manufacturer), Globex accepts, Acme shares its warranty claims, and Globex answers one
// of them, so the two-way sync is visible from the first minute.
func (s *seeder) seedSharing(ctx context.Context, from, to *AccountInfo) (*SharingInfo, error) {
	fc := s.client(from)
	tc := s.client(to)
	var inv struct {
		A struct {
			ID int64 `json:"id"`
		} `json:"sharing_agreement"`
	}
	if err := fc.do(ctx, http.MethodPost, "/api/v2/sharing_agreements.json", map[string]any{"sharing_agreement": map[string]any{
		"remote_subdomain": to.Subdomain, "share_private_comments": false, "sync_status": true, "sync_tags": true, "allows_public_comments": true,
		// Globex promises an answer within 4 hours (issue 18): the sharing panel and
		// the reports measure it.
		"promised_response_minutes": 240,
	}}, &inv); err != nil {
		return nil, err
	}
	var list struct {
		L []struct {
			ID     int64  `json:"id"`
			Type   string `json:"type"`
			Status string `json:"status"`
		} `json:"sharing_agreements"`
	}
	if err := tc.do(ctx, http.MethodGet, "/api/v2/sharing_agreements.json", nil, &list); err != nil {
		return nil, err
	}
	var inbound int64
	for _, a := range list.L {
		if a.Type == "inbound" && a.Status == "pending" {
			inbound = a.ID
		}
	}
	if inbound == 0 {
		return nil, fmt.Errorf("demo: %s did not receive %s's invitation", to.Subdomain, from.Subdomain)
	}
	if err := tc.do(ctx, http.MethodPut, fmt.Sprintf("/api/v2/sharing_agreements/%d.json", inbound), map[string]any{"sharing_agreement": map[string]any{"status": "accepted"}}, nil); err != nil {
		return nil, err
	}
	var tickets struct {
		T []struct {
			ID      int64    `json:"id"`
			Subject string   `json:"subject"`
			Tags    []string `json:"tags"`
			Status  string   `json:"status"`
		} `json:"tickets"`
	}
	if err := fc.do(ctx, http.MethodGet, "/api/v2/tickets.json?per_page=100", nil, &tickets); err != nil {
		return nil, err
	}
	info := &SharingInfo{From: from.Subdomain, To: to.Subdomain, AgreementID: inv.A.ID}
	var subjects []string
	for _, t := range tickets.T {
		if !has(t.Tags, "warranty_claim") || t.Status == "closed" {
			continue
		}
		if err := fc.do(ctx, http.MethodPut, fmt.Sprintf("/api/v2/tickets/%d.json", t.ID), map[string]any{"ticket": map[string]any{"sharing_agreement_ids": []int64{inv.A.ID}}}, nil); err != nil {
			return nil, err
		}
		info.SharedTickets++
		if info.WarrantyTicket == 0 {
			info.WarrantyTicket = t.ID
		}
		subjects = append(subjects, t.Subject)
	}
	// From now on new warranty claims are shared by a trigger (the seed guide's example),
	// and one arrives to show it.
	var trig struct {
		T struct {
			ID int64 `json:"id"`
		} `json:"trigger"`
	}
	if err := fc.do(ctx, http.MethodPost, "/api/v2/triggers.json", map[string]any{"trigger": map[string]any{
		"title":       "Share warranty claims with " + to.Name,
		"description": "New tickets tagged warranty_claim are shared with the manufacturer's help desk.",
		"conditions": map[string]any{"all": []map[string]any{
			{"field": "update_type", "operator": "is", "value": "Create"},
			{"field": "current_tags", "operator": "includes", "value": "warranty_claim"},
		}},
		"actions": []map[string]any{{"field": "share_ticket", "value": fmt.Sprint(inv.A.ID)}},
	}}, &trig); err != nil {
		return nil, err
	}
	info.TriggerID = trig.T.ID
	var auto struct {
		T struct {
			ID int64 `json:"id"`
		} `json:"ticket"`
	}
	// The customer's photo of the defect travels with the shared comment: Globex fetches
	// it from Acme and keeps its own copy.
	photo, err := fc.upload(ctx, "burner-crack.png", defectPhoto())
	if err != nil {
		return nil, err
	}
	if err := fc.do(ctx, http.MethodPost, "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{
		"subject": "Stove burner cracked after two uses", "tags": []string{"warranty_claim", "stoves"}, "priority": "high",
		"comment": map[string]any{"body": "The burner ring of my Globex Trail stove cracked on the second use. Order #A-88213. Can it be replaced under warranty? Photo attached.",
			"uploads": []string{photo}},
		"requester": map[string]any{"name": "Priya Natarajan", "email": "priya.n@example.test"},
	}}, &auto); err != nil {
		return nil, err
	}
	info.SharedTickets++
	info.AutoShared = auto.T.ID
	defer func() {
		// Leave the demo settled: every shared ticket has reached the partner.
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) && (!s.srv.Sharing.Drained(ctx) || !s.srv.Sharing.FilesDrained(ctx)) {
			time.Sleep(20 * time.Millisecond)
		}
	}()
	if info.PhotoCopy, err = waitForCopy(ctx, tc, "Stove burner cracked after two uses"); err != nil {
		return nil, err
	}
	if len(subjects) == 0 {
		return info, nil
	}
	// The manufacturer answers the first claim once its copy has arrived.
	copyID, err := waitForCopy(ctx, tc, subjects[0])
	if err != nil {
		return nil, err
	}
	// Its answer carries a file of its own, which travels back to Acme the same way.
	guide, err := tc.upload(ctx, "replacement-guide.txt", []byte("Globex replacement guide\n1. Find the serial number under the base.\n2. Reply with it and a photo of the part.\n3. The replacement ships within 48 hours.\n"))
	if err != nil {
		return nil, err
	}
	err = tc.do(ctx, http.MethodPut, fmt.Sprintf("/api/v2/tickets/%d.json", copyID), map[string]any{"ticket": map[string]any{
		"status": "open", "comment": map[string]any{"body": "Globex engineering here: we have seen this batch issue before. Please send the serial number; a replacement part ships within 48 hours of receipt. Our replacement guide is attached.",
			"uploads": []string{guide}},
	}}, nil)
	return info, err
}

func waitForCopy(ctx context.Context, c *client, subject string) (int64, error) {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var tickets struct {
			T []struct {
				ID      int64  `json:"id"`
				Subject string `json:"subject"`
			} `json:"tickets"`
		}
		if err := c.do(ctx, http.MethodGet, "/api/v2/tickets.json?per_page=100", nil, &tickets); err != nil {
			return 0, err
		}
		for _, t := range tickets.T {
			if t.Subject == subject {
				return t.ID, nil
			}
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return 0, fmt.Errorf("demo: the shared ticket %q never reached the partner", subject)
}

func has(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// client is an API client acting as an account's admin.
func (s *seeder) client(a *AccountInfo) *client {
	return &client{http: s.http, dial: s.dial, host: s.host(a.Subdomain), email: a.AdminEmail, token: a.APIToken}
}
