package demo

import (
	"fmt"
	"io"
	"strings"
)

// Print writes the demo's URLs, sign-ins, API tokens and a few curl commands to try.
func (in *Info) Print(w io.Writer) {
	fresh := true
	for _, a := range in.Accounts {
		fresh = fresh && a.Created
	}
	if fresh {
		fmt.Fprintln(w, "The Tandem demo is ready.")
	} else {
		fmt.Fprintln(w, "The Tandem demo is ready (the demo data existed already, so it was kept; the admins got fresh API tokens).")
	}
	for _, a := range in.Accounts {
		fmt.Fprintf(w, "\n%s (%s), %s, %s plan\n", a.Name, a.Subdomain, a.Description, a.Plan.Title())
		rows := [][2]string{
			{"API", a.URL + "/api/v2"},
			{"Agent UI", a.URL + "/agent"},
			{"Help center", a.URL + "/hc"},
			{"Admin", fmt.Sprintf("%s <%s>, password %s", a.AdminName, a.AdminEmail, a.AdminPassword)},
			{"API token", a.APIToken},
			{"Agents", strings.Join(a.Agents, ", ") + " (same password)"},
			{"Groups", strings.Join(a.Groups, ", ")},
		}
		if len(a.Organizations) > 0 {
			rows = append(rows, [2]string{"Organizations", strings.Join(a.Organizations, ", ")})
		}
		users := a.EndUsers
		more := ""
		if len(users) > 3 {
			more = fmt.Sprintf(" and %d more", len(users)-3)
			users = users[:3]
		}
		rows = append(rows,
			[2]string{"End users", strings.Join(users, ", ") + more + " (same password, help center)"},
			[2]string{"Tickets", fmt.Sprint(a.Tickets)},
			// The notifications the default triggers sent while seeding (kept and shown
			// there when no --smtp-relay is set).
			[2]string{"Outgoing mail", a.URL + "/admin/mail"},
			// Charts of the week's numbers, ratings and partners (issue 18).
			[2]string{"Reports", a.URL + "/agent/reports"},
		)
		for _, r := range rows {
			fmt.Fprintf(w, "  %-14s %s\n", r[0]+":", r[1])
		}
	}

	if len(in.Accounts) == 0 {
		return
	}
	if sh := in.Sharing; sh != nil {
		fmt.Fprintf(w, "\nTicket sharing: %s shares its warranty claims with %s (agreement %d, accepted; %d tickets shared, one already answered by %s).\n",
			sh.From, sh.To, sh.AgreementID, sh.SharedTickets, sh.To)
		if sh.TriggerID != 0 {
			fmt.Fprintf(w, "A trigger (%d) shares every new ticket tagged warranty_claim automatically; ticket %d was shared that way.\n", sh.TriggerID, sh.AutoShared)
		}
		if sh.PhotoCopy != 0 {
			fmt.Fprintf(w, "Attachments travel with shared comments: the customer's photo on ticket %d was fetched by %s, which keeps its own copy (its ticket %d), and %s's replacement guide came back to %s the same way.\n",
				sh.AutoShared, sh.To, sh.PhotoCopy, sh.To, sh.From)
		}
	}
	a := in.Accounts[0]
	if ai := in.AI; ai != nil {
		fmt.Fprintf(w, "\nAI: %s has %d solved tickets of synthetic history (tandem-synth, written in %.1f s); its models (version %d, trained in %.1f s) suggest fields, macros and articles on open tickets and triage new ones; simulation %d is replaying the history, done within seconds: %s/admin/ai/simulations\n",
			a.Name, ai.HistoryTickets, ai.Took.Seconds(), ai.ModelVersion, ai.TrainTook.Seconds(), ai.SimulationID, a.URL)
	}
	if k := in.DKIM; k != nil {
		fmt.Fprintf(w, "\nDKIM: %s signs its outgoing mail with its own key (Admin > Email: %s/admin/email); the record to publish:\n  %s TXT \"%s\"\n",
			a.Name, a.URL, k.Name, k.Record)
	}
	cred := a.AdminEmail + "/token:" + a.APIToken
	fmt.Fprintf(w, "\nTry it:\n\n")
	fmt.Fprintf(w, "  # the tickets of %s\n  curl -u %s %s/api/v2/tickets.json\n\n", a.Name, cred, a.URL)
	fmt.Fprintf(w, "  # its organizations (Initech shares tickets between colleagues)\n  curl -u %s %s/api/v2/organizations.json\n\n", cred, a.URL)
	fmt.Fprintf(w, "  # help center articles and their files (the warranty claim article carries the claim form)\n  curl '%s/api/v2/help_center/articles/search.json?query=warranty+claim'\n\n", a.URL)
	if sh := in.Sharing; sh != nil && sh.WarrantyTicket != 0 {
		fmt.Fprintf(w, "  # a warranty claim shared with %s: see its sharing state and the manufacturer's reply\n  curl -u %s %s/api/v2/tickets/%d.json\n  curl -u %s %s/api/v2/tickets/%d/comments.json\n\n",
			sh.To, cred, a.URL, sh.WarrantyTicket, cred, a.URL, sh.WarrantyTicket)
	}
	// Incremental exports (docs/EXPORTS.md).
	fmt.Fprintf(w, "  # every ticket changed since the start, for a sync (the last minute's changes come a minute later, as on Zendesk)\n  curl -u %s '%s/api/v2/incremental/tickets/cursor.json?start_time=0'\n\n", cred, a.URL)
	fmt.Fprintf(w, "  # the webhooks (a team chat one, inactive until its endpoint is set; Admin > Webhooks shows its calls)\n  curl -u %s %s/api/v2/webhooks\n\n", cred, a.URL)
	fmt.Fprintf(w, "  # open a ticket\n  curl -u %s -H 'Content-Type: application/json' \\\n"+
		"    -d '{\"ticket\":{\"subject\":\"Hello from curl\",\"comment\":{\"body\":\"It works.\"},\"requester\":{\"name\":\"Carol Diaz\",\"email\":\"carol@example.test\"}}}' \\\n"+
		"    %s/api/v2/tickets.json\n", cred, a.URL)
	if strings.Contains(a.URL, ".localhost") {
		fmt.Fprintf(w, "\n(*.localhost names resolve to this machine in browsers and curl; other programs may need 127.0.0.1 and a Host header.)\n")
	}
}
