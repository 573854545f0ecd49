package web

import (
	"strconv"

	"tandem/internal/ticket"
)

// channelNames are the channels (Zendesk's via_id numbers) in words, for every label that
// would otherwise show a number or an internal name.
var channelNames = map[int]string{
	ticket.ViaWebForm: "the web form", ticket.ViaMail: "email", ticket.ViaAPI: "the API", ticket.ViaRule: "a trigger or automation",
	ticket.ViaBatch: "a bulk update", ticket.ViaClosedTicket: "a follow-up to a closed ticket", ticket.ViaTicketShare: "ticket sharing",
	ticket.ViaHelpCenter: "the help center",
}

// channelName names a channel number, or says which number it is when Tandem has no
// name for it.
func channelName(id int) string {
	if n, ok := channelNames[id]; ok {
		return n
	}
	return "channel " + strconv.Itoa(id)
}

// channelValue names the channel a rule condition's value stands for.
func channelValue(v string) string {
	n, err := strconv.Atoi(v)
	if err != nil {
		return v
	}
	return channelName(n)
}

// viaText says in words how a ticket came: "from Globex Manufacturing (ticket sharing)"
// for a partner's copy, "through the API", "by email" and so on.
func viaText(v ticket.Via) string {
	id := v.ID
	if id == 0 && v.Channel != "" && v.Channel != "web" {
		id = ticket.ViaID(v.Channel)
	}
	switch id {
	case ticket.ViaTicketShare:
		if from, ok := v.Source["from"].(map[string]any); ok {
			if name, _ := from["name"].(string); name != "" {
				return "from " + name + " (ticket sharing)"
			}
		}
		return "from a partner help desk (ticket sharing)"
	case ticket.ViaMail:
		return "by email"
	}
	return "through " + channelName(id)
}
