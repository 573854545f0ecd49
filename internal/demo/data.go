package demo

import "tandem/internal/account"

// Password is the web sign-in password of every demo admin.
const Password = "tandem-demo"

// accountSpec is one demo help desk and everything seeded into it.
type accountSpec struct {
	Subdomain   string
	Name        string
	Plan        account.Plan
	Description string
	Admin       person
	Agents      []person
	// Groups maps each group to its members' emails (agents and the admin).
	Groups    []groupSpec
	Orgs      []orgSpec
	Customers []customer
	Tickets   []ticketSpec
}

type person struct{ Name, Email string }

type groupSpec struct {
	Name    string
	Members []string
}

type orgSpec struct {
	Name           string
	Details        string
	DomainNames    []string
	SharedTickets  bool
	SharedComments bool
	Group          string // new tickets of the organization go to this group
	Tags           []string
}

type customer struct {
	person
	Org string // "" = none
}

// ticketSpec is a ticket and its conversation. The ticket is created with the first
// comment written by its requester, then each post is added as an update; the last
// update also sets the final status.
type ticketSpec struct {
	Subject  string
	From     string // requester's email (a customer)
	Body     string
	Type     string
	Priority string
	Group    string
	Assignee string // agent's email; "" = unassigned
	Status   string
	Tags     []string
	Posts    []post
	// Phoned: an agent logged the call, naming the caller inline ("requester": {name,
	// email}) so the API creates the end user; the first comment is the agent's.
	Phoned *person
}

// post is a comment added after creation. By is "" for the assignee, or "requester", or
// an email.
type post struct {
	By      string
	Body    string
	Private bool
}

const byRequester = "requester"

// accounts returns the demo: Acme Outfitters, an outdoor-gear retailer, and Globex
// Manufacturing, which makes much of what Acme sells (so Acme's warranty claims are
// natural candidates for sharing with Globex).
func accounts() []accountSpec { return []accountSpec{acme(), globex()} }

func acme() accountSpec {
	return accountSpec{
		Subdomain:   "acme",
		Name:        "Acme Outfitters",
		Plan:        account.Enterprise,
		Description: "an outdoor-gear retailer",
		Admin:       person{"Alex Rivera", "admin@acme.test"},
		Agents:      []person{{"Sam Patel", "sam@acme.test"}, {"Jordan Lee", "jordan@acme.test"}},
		Groups: []groupSpec{
			{"Support", []string{"admin@acme.test", "sam@acme.test", "jordan@acme.test"}},
			{"Warranty", []string{"jordan@acme.test"}},
		},
		Orgs: []orgSpec{{
			Name:           "Initech",
			Details:        "Corporate customer: team kits and offsite gear, invoiced monthly.",
			DomainNames:    []string{"initech.test"},
			SharedTickets:  true,
			SharedComments: true,
			Group:          "Support",
			Tags:           []string{"b2b"},
		}},
		Customers: []customer{
			{person{"Alice Chen", "alice@initech.test"}, "Initech"},
			{person{"Bob Okafor", "bob@initech.test"}, "Initech"},
			{person{"Carol Diaz", "carol@example.test"}, ""},
			{person{"Dan Wright", "dan.wright@example.test"}, ""},
			{person{"Emma Larsen", "emma.larsen@example.test"}, ""},
			{person{"Farid Haddad", "farid.haddad@example.test"}, ""},
			{person{"Grace Kim", "grace.kim@example.test"}, ""},
			{person{"Hugo Martin", "hugo.martin@example.test"}, ""},
			{person{"Inês Costa", "ines.costa@example.test"}, ""},
			{person{"Jonas Weber", "jonas.weber@example.test"}, ""},
			{person{"Keiko Tanaka", "keiko.tanaka@example.test"}, ""},
			{person{"Liam O'Brien", "liam.obrien@example.test"}, ""},
			{person{"Maya Singh", "maya.singh@example.test"}, ""},
			{person{"Noah Fischer", "noah.fischer@example.test"}, ""},
			{person{"Olivia Brown", "olivia.brown@example.test"}, ""},
		},
		Tickets: acmeTickets(),
	}
}

func acmeTickets() []ticketSpec {
	const sam, jordan, alex = "sam@acme.test", "jordan@acme.test", "admin@acme.test"
	return []ticketSpec{
		{
			Subject: "Order #10482 hasn't arrived", From: "dan.wright@example.test",
			Body: "Hi, I ordered a Trailmaster 45L backpack on the 3rd and the tracking page hasn't changed in five days. Order #10482. Can you check where it is?",
			Type: "question", Priority: "normal", Group: "Support", Assignee: sam, Status: "pending",
			Tags: []string{"shipping", "order_status"},
			Posts: []post{
				{Body: "Carrier reference DPD-88213. The Rotterdam depot confirms the parcel was re-scanned this morning after a scanner fault.", Private: true},
				{Body: "Hi Dan, the parcel was held at the carrier's depot after a scanning fault. It's moving again and should reach you by Thursday. Could you let us know once it arrives?"},
			},
		},
		{
			Subject: "Wrong size boots delivered", From: "emma.larsen@example.test",
			Body: "I ordered the Summit GTX boots in EU 39 but the box has a 41 in it. I need them for a trip in two weeks.",
			Type: "incident", Priority: "normal", Group: "Support", Assignee: jordan, Status: "solved",
			Tags: []string{"exchange", "order"},
			Posts: []post{
				{Body: "Sorry about that, Emma! I've emailed you a prepaid return label and reserved a pair in 39. The exchange ships as soon as the carrier scans your return."},
				{By: byRequester, Body: "Label received, I dropped the box off this morning. Thanks!"},
				{Body: "Your return was scanned and the size 39 pair is on its way. Enjoy the trip!"},
			},
		},
		{
			Subject: "Tent pole snapped on first use", From: "farid.haddad@example.test",
			Body: "The main pole of my Globex Ridgeline 2 tent snapped at a ferrule the first time I pitched it. I bought it from you three weeks ago (order #10311).",
			Type: "incident", Priority: "high", Group: "Warranty", Assignee: jordan, Status: "open",
			Tags: []string{"warranty_claim", "defective", "tents"},
			Posts: []post{
				{Body: "Third Ridgeline 2 pole failure this month, always the same ferrule. Raising it with Globex quality.", Private: true},
				{Body: "Hi Farid, that is not normal wear. I've opened a warranty claim with the manufacturer and we're sending you a replacement pole set today."},
			},
		},
		{
			Subject: "Camping stove won't stay lit", From: "grace.kim@example.test",
			Body: "My Blaze 2 stove lights, then goes out after a few seconds. New canister, no wind. It's two months old.",
			Type: "incident", Priority: "normal", Group: "Warranty", Assignee: jordan, Status: "pending",
			Tags: []string{"warranty_claim", "defective", "stoves"},
			Posts: []post{
				{Body: "Hi Grace, sorry to hear that. Could you send us a photo of the burner head and the serial number under the base? Then we can process the warranty claim."},
			},
		},
		{
			Subject: "Refund not received for returned jacket", From: "hugo.martin@example.test",
			Body: "I returned a Storm Shell jacket on the 2nd (return #R-2290) and still haven't seen the refund on my card.",
			Type: "question", Priority: "high", Group: "Support", Assignee: sam, Status: "open",
			Tags: []string{"refund", "billing"},
			Posts: []post{
				{Body: "Return R-2290 was received on the 6th but the refund is stuck in the payment provider's review queue. Escalated to finance.", Private: true},
				{Body: "Hi Hugo, your return arrived and the refund is being processed. I've asked our finance team to push it through; you should see it within 3 working days."},
			},
		},
		{
			Subject: "Can I change my delivery address?", From: "ines.costa@example.test",
			Body: "I've just placed order #10590 and realised it will go to my old flat. Can it go to my office instead?",
			Type: "question", Priority: "low", Group: "Support", Assignee: sam, Status: "solved",
			Tags: []string{"shipping", "address_change"},
			Posts: []post{
				{Body: "Done! The order hadn't been packed yet, so I've changed the delivery address to your office."},
				{By: byRequester, Body: "Perfect, thank you so much."},
			},
		},
		{
			Subject: "Quote for 40 backpacks for our team offsite", From: "alice@initech.test",
			Body: "Hello, Initech is planning an offsite in June. Could you quote 40 Trailmaster 25L daypacks with our logo embroidered?",
			Type: "question", Priority: "normal", Group: "Support", Assignee: sam, Status: "open",
			Tags: []string{"b2b", "quote"},
			Posts: []post{
				{Body: "Hi Alice, happy to help. Embroidery adds about 10 working days. Which colours would you like, and should we split sizes?"},
				{By: "bob@initech.test", Body: "Jumping in for Alice: 25 in navy and 15 in olive, please. Logo files are on the way."},
				{Body: "Initech has net-30 terms; apply the 12% volume discount for 40+ units.", Private: true},
			},
		},
		{
			Subject: "Invoice for PO 7781 needs our VAT number", From: "bob@initech.test",
			Body: "Our accounts team can't process invoice INV-4471 because it doesn't show Initech's VAT number. Could you reissue it?",
			Type: "task", Priority: "normal", Group: "Support", Assignee: sam, Status: "pending",
			Tags: []string{"b2b", "invoice"},
			Posts: []post{
				{Body: "Hi Bob, of course. Could you reply with the VAT number exactly as it should appear? I'll reissue the invoice right away."},
			},
		},
		{
			Subject: "Damaged box, sleeping bag seems fine", From: "jonas.weber@example.test",
			Body: "The parcel arrived crushed on one corner. The sleeping bag inside looks OK. Just letting you know in case it matters for the carrier.",
			Type: "question", Priority: "low", Group: "Support", Status: "new",
			Tags: []string{"shipping", "damaged_packaging"},
		},
		{
			Subject: "Zipper broke on Trailmaster 45L after two hikes", From: "keiko.tanaka@example.test",
			Body: "The main compartment zipper slider came off on my second hike. The backpack is otherwise great. Is this covered?",
			Type: "incident", Priority: "normal", Group: "Warranty", Assignee: jordan, Status: "hold",
			Tags: []string{"warranty_claim", "defective", "backpacks"},
			Posts: []post{
				{Body: "Yes, it's covered. We're waiting for replacement sliders from the manufacturer; I'll update you as soon as they arrive."},
				{Body: "On hold until Globex ships the slider kit (their RMA in progress).", Private: true},
			},
		},
		{
			Subject: "Promo code SPRING20 not working", From: "liam.obrien@example.test",
			Body: "Checkout says SPRING20 is invalid, but your newsletter says it's valid until the end of the month.",
			Type: "question", Priority: "normal", Group: "Support", Assignee: sam, Status: "solved",
			Tags: []string{"promotions", "checkout"},
			Posts: []post{
				{Body: "Hi Liam, the code excludes items already on sale, which is why it was refused. I've applied 20% to the full-price items in your basket manually; the new total is in your cart."},
			},
		},
		{
			Subject: "Package marked delivered but it's not here", From: "maya.singh@example.test",
			Body: "Tracking for order #10544 says delivered yesterday at 14:02 but nothing arrived and my neighbours don't have it.",
			Type: "incident", Priority: "high", Group: "Support", Assignee: sam, Status: "open",
			Tags: []string{"shipping", "lost_parcel"},
			Posts: []post{
				{Body: "Opened a trace with the carrier (case 55102). GPS of the delivery scan is 2 km from the address.", Private: true},
				{Body: "Hi Maya, I've opened an investigation with the carrier. If they can't find the parcel within 48 hours we'll send a replacement at no cost."},
			},
		},
		{
			Subject: "Headlamp battery is swelling", From: "noah.fischer@example.test",
			Body: "The rechargeable battery of my Beam 400 headlamp has swollen and the case no longer closes. Is it safe to use?",
			Type: "incident", Priority: "urgent", Group: "Warranty", Assignee: jordan, Status: "open",
			Tags: []string{"warranty_claim", "defective", "safety"},
			Posts: []post{
				{Body: "Hi Noah, please stop using and charging it right away and keep it away from heat. We'll send a prepaid safety-return box and a replacement."},
				{Body: "Possible battery safety issue; second report this quarter. Notify the manufacturer.", Private: true},
			},
		},
		{
			Subject: "How do I waterproof leather boots?", From: "olivia.brown@example.test",
			Body: "Which wax or spray do you recommend for full-grain leather hiking boots, and how often?",
			Type: "question", Priority: "low", Group: "Support", Assignee: sam, Status: "solved",
			Tags: []string{"product_care"},
			Posts: []post{
				{Body: "Hi Olivia, clean them, let them dry at room temperature, then apply a beeswax-based wax every 3 to 4 outings. Avoid silicone sprays on full-grain leather."},
			},
		},
		{
			Subject: "Missing item in order #10577", From: "carol@example.test",
			Body: "My order was supposed to include a titanium spork, but it wasn't in the parcel. The packing slip lists it.",
			Type: "incident", Priority: "normal", Group: "Support", Assignee: sam, Status: "pending",
			Tags: []string{"order", "missing_item"},
			Posts: []post{
				{Body: "Hi Carol, sorry about that! The spork was on back-order and should have shipped separately. Can you confirm your address so I can send it today?"},
			},
		},
		{
			Subject: "Warranty: jacket seams are leaking", From: "carol@example.test",
			Body: "My Storm Shell jacket lets water in along the shoulder seams after six months of normal use.",
			Type: "incident", Priority: "normal", Group: "Warranty", Assignee: jordan, Status: "open",
			Tags: []string{"warranty_claim", "defective", "jackets"},
			Posts: []post{
				{Body: "Hi Carol, seam tape failure within two years is covered. Please send the jacket back with the label I've emailed and we'll repair or replace it."},
			},
		},
		{
			Subject: "Do you ship to Norway?", From: "ines.costa@example.test",
			Body: "I'm moving to Bergen next month. Do you deliver there, and are there import fees?",
			Type: "question", Priority: "low", Group: "Support", Status: "new",
			Tags: []string{"shipping", "international"},
		},
		{
			Subject: "Please cancel order #10601", From: "emma.larsen@example.test",
			Body: "I ordered the same stove twice by mistake. Please cancel order #10601 and keep #10600.",
			Type: "task", Priority: "high", Group: "Support", Assignee: sam, Status: "solved",
			Tags: []string{"order", "cancellation"},
			Posts: []post{
				{Body: "Hi Emma, order #10601 is cancelled and the payment hold has been released. #10600 ships tomorrow."},
			},
		},
		{
			Subject: "Charged twice for one order", From: "farid.haddad@example.test",
			Body: "My card statement shows two charges of 189.90 for order #10311. Please refund the duplicate.",
			Type: "incident", Priority: "urgent", Group: "Support", Assignee: alex, Status: "open",
			Tags: []string{"billing", "double_charge"},
			Posts: []post{
				{Body: "Payment provider shows one capture and one pre-authorisation that should drop within 5 days. Checking with them to be sure.", Private: true},
				{Body: "Hi Farid, I can see the second charge is a pre-authorisation, not a payment. It should disappear within 5 days; I'll keep this ticket open until it does."},
			},
		},
		{
			Subject: "Boot sole separating after four months", From: "hugo.martin@example.test",
			Body: "The sole of my left Summit GTX boot is coming away at the toe. I've had them four months.",
			Type: "incident", Priority: "normal", Group: "Warranty", Status: "new",
			Tags: []string{"warranty_claim", "defective", "boots"},
		},
		{
			Subject: "Replacement filter cartridges out of stock", From: "jonas.weber@example.test",
			Body: "Your site says the PureFlow replacement cartridges are out of stock. When will they be back?",
			Type: "question", Priority: "low", Group: "Support", Assignee: sam, Status: "pending",
			Tags: []string{"stock", "water_filters"},
			Posts: []post{
				{Body: "Hi Jonas, the next delivery is due in about two weeks. Would you like us to reserve two cartridges and ship them as soon as they arrive?"},
			},
		},
		{
			Subject: "Add Bob as an authorised buyer for Initech", From: "alice@initech.test",
			Body: "Please allow Bob Okafor (bob@initech.test) to place orders on Initech's account.",
			Type: "task", Priority: "normal", Group: "Support", Assignee: alex, Status: "solved",
			Tags: []string{"b2b", "account"},
			Posts: []post{
				{Body: "Hi Alice, Bob is now an authorised buyer and can see Initech's orders and tickets."},
				{By: "bob@initech.test", Body: "Confirmed, I can see everything. Thanks!"},
			},
		},
		{
			Subject: "Is gift wrapping available?", From: "keiko.tanaka@example.test",
			Body: "I'd like to send a sleeping bag as a birthday present. Can you gift wrap it and leave out the invoice?",
			Type: "question", Priority: "low", Group: "Support", Status: "new",
			Tags: []string{"gifts"},
		},
		{
			Subject: "Delivery delayed: I need it for an expedition on Friday", From: "liam.obrien@example.test",
			Body: "Order #10612 (crampons and an ice axe) now shows delivery next Monday. I leave on Friday morning. Anything you can do?",
			Type: "incident", Priority: "urgent", Group: "Support", Assignee: sam, Status: "open",
			Tags: []string{"shipping", "expedite"},
			Posts: []post{
				{Body: "Hi Liam, I've upgraded the shipment to next-day express at our cost. It should arrive Thursday before noon."},
				{By: byRequester, Body: "You're lifesavers, thank you!"},
			},
		},
		{
			Subject: "Tent fly seam tape is peeling", From: "maya.singh@example.test",
			Body: "The seam tape inside the fly of my Ridgeline 2 is peeling off in long strips after one season.",
			Type: "incident", Priority: "high", Group: "Warranty", Assignee: jordan, Status: "hold",
			Tags: []string{"warranty_claim", "defective", "tents"},
			Posts: []post{
				{Body: "Hi Maya, thanks for the photos. This looks like a manufacturing defect; we've asked the manufacturer for a replacement fly and will ship it as soon as we have it."},
			},
		},
		{
			Subject: "Size guide for kids' hiking boots", From: "noah.fischer@example.test",
			Body: "My son is 8 and his feet measure 21 cm. Which size of the Junior Trail boots should I order?",
			Type: "question", Priority: "low", Group: "Support", Assignee: sam, Status: "solved",
			Tags: []string{"sizing"},
			Posts: []post{
				{Body: "Hi Noah, for a 21 cm foot we recommend EU 34, which leaves about a thumb's width of room to grow."},
			},
		},
		{
			Subject: "Return window for sale items", From: "olivia.brown@example.test",
			Body: "Can I return a jacket bought in the winter sale if it doesn't fit?",
			Type: "question", Priority: "normal", Group: "Support", Assignee: jordan, Status: "solved",
			Tags: []string{"returns", "policy"},
			Posts: []post{
				{Body: "Hi Olivia, yes: sale items can be returned within 30 days, unworn and with tags, just like full-price items."},
			},
		},
		{
			Subject: "Water bottle lid cracked", From: "dan.wright@example.test",
			Body: "The lid of my insulated bottle cracked along the hinge. It's five months old.",
			Type: "incident", Priority: "low", Group: "Warranty", Assignee: jordan, Status: "solved",
			Tags: []string{"warranty_claim", "defective"},
			Posts: []post{
				{Body: "Hi Dan, a replacement lid is on its way, no need to send the old one back."},
			},
		},
		{
			Subject: "Can't see my order history", Phoned: &person{"Peter Novak", "peter.novak@example.test"},
			Body: "Peter called: he can sign in but the order history page is empty, though he has ordered twice this year (orders #10204 and #10477).",
			Type: "question", Priority: "normal", Group: "Support", Assignee: sam, Status: "open",
			Tags: []string{"account", "phone"},
			Posts: []post{
				{Body: "His two orders were placed as a guest with a different email address. Merging them into his account.", Private: true},
			},
		},
		{
			Subject: "Stove fuel canister thread stripped", From: "bob@initech.test",
			Body: "One of the Blaze 2 stoves from our offsite order won't screw onto any canister; the thread looks stripped from the factory.",
			Type: "incident", Priority: "normal", Group: "Warranty", Assignee: jordan, Status: "open",
			Tags: []string{"warranty_claim", "defective", "stoves", "b2b"},
			Posts: []post{
				{Body: "Hi Bob, sorry about that. We'll swap it: a replacement stove ships today with a return label for the faulty one."},
			},
		},
	}
}

func globex() accountSpec {
	return accountSpec{
		Subdomain:   "globex",
		Name:        "Globex Manufacturing",
		Plan:        account.Enterprise,
		Description: "a manufacturer of tents, packs and stoves",
		Admin:       person{"Morgan Blake", "admin@globex.test"},
		Agents:      []person{{"Riley Chen", "riley@globex.test"}, {"Dana Kowalski", "dana@globex.test"}},
		Groups: []groupSpec{
			{"Engineering", []string{"admin@globex.test", "riley@globex.test", "dana@globex.test"}},
			{"Returns", []string{"dana@globex.test"}},
		},
		Customers: []customer{
			{person{"Chris Walker", "purchasing@acme.test"}, ""},
			{person{"Lena Ortiz", "buyer@summitsports.test"}, ""},
			{person{"Tom Becker", "quality@trailhead.test"}, ""},
			{person{"Nadia Rahman", "support@peakgear.test"}, ""},
		},
		Tickets: globexTickets(),
	}
}

func globexTickets() []ticketSpec {
	const riley, dana = "riley@globex.test", "dana@globex.test"
	return []ticketSpec{
		{
			Subject: "Ridgeline 2 pole ferrules cracking (batch RL-2231)", From: "purchasing@acme.test",
			Body: "We've had three customers report the main pole snapping at the same ferrule, all from batch RL-2231. Can you investigate?",
			Type: "problem", Priority: "high", Group: "Engineering", Assignee: riley, Status: "open",
			Tags: []string{"quality", "tents", "batch_rl2231"},
			Posts: []post{
				{Body: "Ferrule supplier changed alloy in March; RL-2231 is the first batch with the new part. Pulling samples.", Private: true},
				{Body: "Thanks Chris. We're testing retained samples from RL-2231 and will report back this week. Please quarantine any remaining stock from that batch."},
			},
		},
		{
			Subject: "RMA for 12 Blaze 2 stoves with faulty igniters", From: "quality@trailhead.test",
			Body: "12 units from our March delivery have igniters that don't spark. Serial numbers attached. Please issue an RMA.",
			Type: "task", Priority: "normal", Group: "Returns", Assignee: dana, Status: "pending",
			Tags: []string{"rma", "stoves"},
			Posts: []post{
				{Body: "Hi Tom, RMA-3318 is issued. Please ship the units to our Leeds returns centre with the RMA number on each carton."},
			},
		},
		{
			Subject: "Fabric spec for Trailmaster 45L", From: "buyer@summitsports.test",
			Body: "Could you send the fabric denier and coating spec for the Trailmaster 45L? A customer asks whether it's PFC-free.",
			Type: "question", Priority: "low", Group: "Engineering", Assignee: riley, Status: "solved",
			Tags: []string{"specs", "backpacks"},
			Posts: []post{
				{Body: "Hi Lena, the body is 210D recycled nylon ripstop with a PFC-free DWR; the base is 420D. The full spec sheet is on the partner portal."},
			},
		},
		{
			Subject: "Replacement zipper sliders for warranty repairs", From: "purchasing@acme.test",
			Body: "We need 50 #8 zipper slider kits for Trailmaster 45L warranty repairs. Several customers are waiting.",
			Type: "task", Priority: "normal", Group: "Returns", Assignee: dana, Status: "open",
			Tags: []string{"spare_parts", "backpacks"},
			Posts: []post{
				{Body: "Hi Chris, 50 kits are reserved and will leave the warehouse on Monday."},
			},
		},
		{
			Subject: "Credit note for returned pallet P-5520", From: "support@peakgear.test",
			Body: "The pallet of unsold Ridgeline 3 tents was delivered back to you on the 4th. When can we expect the credit note?",
			Type: "question", Priority: "normal", Group: "Returns", Assignee: dana, Status: "solved",
			Tags: []string{"rma", "credit_note"},
			Posts: []post{
				{Body: "Hi Nadia, the pallet was checked in complete. Credit note CN-2207 is attached to your account."},
			},
		},
		{
			Subject: "Seam tape adhesion on Ridgeline flies", From: "quality@trailhead.test",
			Body: "We're seeing seam tape peel on Ridgeline 2 flies after one season. Is there a known issue?",
			Type: "incident", Priority: "high", Group: "Engineering", Assignee: riley, Status: "hold",
			Tags: []string{"quality", "tents"},
			Posts: []post{
				{Body: "Hi Tom, we're aware of it and are running peel tests with the tape supplier. Results are due in two weeks."},
			},
		},
		{
			Subject: "Headlamp battery swelling reports", From: "purchasing@acme.test",
			Body: "Two customers have reported swollen batteries in Beam 400 headlamps. Should we pull the product?",
			Type: "incident", Priority: "urgent", Group: "Engineering", Assignee: riley, Status: "open",
			Tags: []string{"safety", "headlamps"},
			Posts: []post{
				{Body: "Hi Chris, please stop selling the affected lot (B400-0922) while we investigate. We'll cover replacements."},
				{Body: "Cell supplier lot 0922 flagged. Safety review meeting booked for Thursday.", Private: true},
			},
		},
		{
			Subject: "Lead time for the autumn restock", From: "buyer@summitsports.test",
			Body: "What's the current lead time for 300 Trailmaster 25L and 120 Blaze 2 stoves?",
			Type: "question", Priority: "normal", Status: "new",
			Tags: []string{"sales", "lead_time"},
		},
		{
			Subject: "Three cartons of stoves damaged in transit", From: "support@peakgear.test",
			Body: "Three cartons from delivery DN-8840 arrived crushed. Photos and the signed delivery note are attached.",
			Type: "incident", Priority: "normal", Group: "Returns", Assignee: dana, Status: "pending",
			Tags: []string{"freight", "damaged"},
			Posts: []post{
				{Body: "Hi Nadia, we've filed a claim with the haulier. Could you keep the cartons for inspection until Friday?"},
			},
		},
		{
			Subject: "EN 13537 certificates for sleeping bags", From: "buyer@summitsports.test",
			Body: "Please send the EN 13537 temperature rating certificates for the Nordic 0 and Nordic -10 sleeping bags.",
			Type: "task", Priority: "low", Group: "Engineering", Assignee: riley, Status: "solved",
			Tags: []string{"compliance", "sleeping_bags"},
			Posts: []post{
				{Body: "Hi Lena, both certificates are attached. Note that new models are tested to ISO 23537, which replaces EN 13537."},
			},
		},
	}
}
