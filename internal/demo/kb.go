package demo

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// Acme's help center: categories, sections and about thirty articles (a few with a
// French translation, one for signed-in customers, one for Initech only, one for
// agents), created through the Help Center API like everything else the demo seeds.

type kbCategorySpec struct {
	Name, Description string
	Sections          []kbSectionSpec
}

type kbSectionSpec struct {
	Name     string
	Articles []kbArticleSpec
}

type kbArticleSpec struct {
	Title  string
	Body   string // paragraphs separated by blank lines
	Labels []string
	// Visibility is "" (everyone), signed_in, organizations (Initech) or agents.
	Visibility string
	// FrTitle and FrBody, when set, add a French translation.
	FrTitle, FrBody string
}

func acmeHelpCenter() []kbCategorySpec {
	return []kbCategorySpec{
		{"Orders and delivery", "Placing, changing and tracking orders.", []kbSectionSpec{
			{"Tracking and delivery", []kbArticleSpec{
				{Title: "Where is my order?", Labels: []string{"delivery", "tracking"},
					Body:    "Every order gets a tracking number by email as soon as it leaves our warehouse, usually within one working day.\n\nOpen the link in that email to follow your parcel. If the tracking has not moved for three working days, reply to the shipping email and we will open an investigation with the carrier.",
					FrTitle: "Où est ma commande ?", FrBody: "Chaque commande reçoit un numéro de suivi par e-mail dès qu'elle quitte notre entrepôt, en général sous un jour ouvré.\n\nSi le suivi ne bouge plus pendant trois jours ouvrés, répondez à l'e-mail d'expédition et nous ouvrirons une enquête auprès du transporteur."},
				{Title: "My parcel is marked delivered but it is not here", Labels: []string{"delivery"},
					Body: "Check with neighbours and around your building first: carriers often leave parcels in a safe place.\n\nIf it has not turned up within 48 hours, contact us with your order number. We file a claim with the carrier and send a replacement or a refund once the claim is opened."},
				{Title: "How long does delivery take?", Labels: []string{"delivery", "shipping"},
					Body:    "Standard delivery takes 2 to 4 working days, express delivery 1 working day when you order before 2 pm.\n\nDuring sales and in December allow one extra day.",
					FrTitle: "Quels sont les délais de livraison ?", FrBody: "La livraison standard prend de 2 à 4 jours ouvrés, la livraison express 1 jour ouvré pour toute commande passée avant 14 h.\n\nPendant les soldes et en décembre, comptez un jour de plus."},
				{Title: "Do you ship internationally?", Labels: []string{"shipping"},
					Body: "We ship to the EU, the United Kingdom, Norway and Switzerland. Duties for non-EU countries are shown at checkout and paid with your order, so there is nothing to pay on delivery."},
			}},
			{"Changing an order", []kbArticleSpec{
				{Title: "How do I cancel my order?", Labels: []string{"cancel"},
					Body:    "You can cancel an order from your account until it is packed, usually within two hours of ordering.\n\nOnce it has shipped, refuse the delivery or return it for free within 30 days.",
					FrTitle: "Comment annuler ma commande ?", FrBody: "Vous pouvez annuler une commande depuis votre compte tant qu'elle n'est pas emballée, en général dans les deux heures.\n\nUne fois expédiée, refusez la livraison ou retournez-la gratuitement sous 30 jours."},
				{Title: "Can I change my delivery address?", Labels: []string{"delivery", "address"},
					Body: "Before the order ships, write to us with the new address and we will update it. After it ships we can ask the carrier to redirect it, which usually adds a day."},
				{Title: "An item is missing from my order", Labels: []string{"missing"},
					Body: "Large orders sometimes ship in several parcels: check your shipping emails for a second tracking number.\n\nIf everything has arrived and an item is still missing, send us the order number and a photo of the packing slip and we will ship it at once."},
				{Title: "Is gift wrapping available?", Labels: []string{"gift"},
					Body: "Yes: tick \"gift wrap\" at checkout for 3 EUR per item. Gift orders carry no prices, and you can add a message of up to 200 characters."},
			}},
			{"Payments and invoices", []kbArticleSpec{
				{Title: "I was charged twice for one order", Labels: []string{"payment", "billing"},
					Body: "Your bank may show a pre-authorisation next to the real charge; the pre-authorisation disappears within 5 working days.\n\nIf both charges are still there after that, send us a bank statement showing them and we refund the duplicate the same day."},
				{Title: "My promo code does not work", Labels: []string{"promo", "payment"},
					Body: "Promo codes are case sensitive, cannot be combined, and usually exclude sale items. Check the code's end date in the email that gave it to you; if it should work, tell us the code and we apply it by hand."},
				{Title: "How do I get an invoice with our VAT number?", Labels: []string{"invoice", "b2b"}, Visibility: "signed_in",
					Body: "Sign in, open the order under My orders and choose \"Download invoice\". To add a VAT number, add it to your company profile first; invoices issued afterwards carry it. For past invoices, write to us with the order numbers."},
				{Title: "Initech: ordering team kits on account", Labels: []string{"b2b", "initech"}, Visibility: "organizations",
					Body: "Initech buyers order on account and are invoiced monthly with PO numbers. Authorised buyers are listed in your contract; ask your account manager to add a colleague."},
			}},
		}},
		{"Returns and refunds", "Sending items back and getting your money back.", []kbSectionSpec{
			{"Returns", []kbArticleSpec{
				{Title: "How do I return an item?", Labels: []string{"returns"},
					Body:    "Returns are free within 30 days of delivery. Start a return from My orders, print the prepaid label and drop the parcel at any post office.\n\nItems must be unused, with their tags.",
					FrTitle: "Comment retourner un article ?", FrBody: "Les retours sont gratuits sous 30 jours après la livraison. Lancez le retour depuis Mes commandes, imprimez l'étiquette prépayée et déposez le colis dans un bureau de poste.\n\nLes articles doivent être neufs, avec leurs étiquettes."},
				{Title: "Can I return sale items?", Labels: []string{"returns", "sale"},
					Body: "Yes. Sale items have the same 30-day return window as everything else, but final-clearance items marked \"no returns\" can only be returned if they are faulty."},
				{Title: "I received the wrong size", Labels: []string{"returns", "exchange", "size"},
					Body: "Start an exchange from My orders and choose the size you need: we ship the new size as soon as the carrier scans your return, so you are not without boots for long."},
				{Title: "My parcel arrived damaged", Labels: []string{"damaged"},
					Body: "Take photos of the box and the item before you throw anything away, then contact us within 7 days. If the item itself is damaged we replace it; a damaged box with an intact item needs nothing from you, but tell us so we can warn the carrier."},
			}},
			{"Refunds", []kbArticleSpec{
				{Title: "When will I get my refund?", Labels: []string{"refund"},
					Body:    "We refund within 3 working days of receiving your return, to the card you paid with. Your bank may take another 3 to 5 days to show it.\n\nYou get an email when we issue the refund.",
					FrTitle: "Quand serai-je remboursé ?", FrBody: "Nous remboursons sous 3 jours ouvrés après réception de votre retour, sur la carte utilisée pour le paiement. Votre banque peut mettre encore 3 à 5 jours à l'afficher."},
				{Title: "Refunds for gift orders", Labels: []string{"refund", "gift"},
					Body: "Gifts returned by the recipient are refunded as a gift card in the recipient's name, unless the buyer asks us to refund the original payment."},
			}},
		}},
		{"Warranty and repairs", "What our two-year warranty covers and how to claim.", []kbSectionSpec{
			{"Warranty", []kbArticleSpec{
				{Title: "What does the warranty cover?", Labels: []string{"warranty"},
					Body:    "All Acme gear has a two-year warranty against defects in materials and workmanship: broken zips, failed seams, delaminating soles, snapped tent poles.\n\nIt does not cover normal wear, accidents or repairs made by someone else.",
					FrTitle: "Que couvre la garantie ?", FrBody: "Tout le matériel Acme est garanti deux ans contre les défauts de matière et de fabrication : fermetures éclair cassées, coutures défaillantes, semelles qui se décollent, arceaux de tente cassés.\n\nL'usure normale et les accidents ne sont pas couverts."},
				{Title: "How do I make a warranty claim?", Labels: []string{"warranty", "claim"},
					Body: "Send us your order number, photos of the fault and a short description. Most claims are decided within two working days; we repair, replace or refund, and pay the shipping both ways."},
				{Title: "My tent pole snapped", Labels: []string{"warranty", "tent"},
					Body: "Snapped poles are covered by the warranty. Tell us the tent model and which pole broke: we send a replacement section within a week, and a splint tube at once if you are on a trip."},
				{Title: "The sole of my boot is coming off", Labels: []string{"warranty", "boots"},
					Body: "Sole separation within two years is a manufacturing defect. Stop wearing the boots, send us photos and we will resole or replace them."},
				{Title: "Internal: warranty decision checklist", Labels: []string{"warranty", "internal"}, Visibility: "agents",
					Body: "Approve without return when the claim is under 40 EUR and photos show the fault. Ask for the item back when the fault could be misuse. Escalate swelling batteries to the safety group the same day."},
			}},
			{"Care and repair", []kbArticleSpec{
				{Title: "How do I waterproof leather boots?", Labels: []string{"care", "boots"},
					Body: "Clean the boots, let them dry at room temperature, then apply a wax made for leather and buff it in. Repeat every few weeks in wet seasons. Never dry boots next to a radiator: the leather cracks."},
				{Title: "My jacket's seams are leaking", Labels: []string{"care", "warranty", "jacket"},
					Body: "Leaking seams on a jacket under two years old are covered by the warranty. On older jackets, seam tape can be re-glued with a seam sealer; we sell repair kits."},
				{Title: "My camping stove will not stay lit", Labels: []string{"stove"},
					Body: "Check the fuel canister is screwed in fully and not nearly empty, clean the jet with the needle in the kit, and shelter the flame from wind. If it still goes out, it may be a faulty valve: make a warranty claim."},
			}},
		}},
		{"Products", "Sizes, materials and choosing the right gear.", []kbSectionSpec{
			{"Sizing", []kbArticleSpec{
				{Title: "How do I choose the right boot size?", Labels: []string{"size", "boots"},
					Body: "Measure your foot in the evening, with the socks you hike in, and pick the size that leaves a thumb's width in front of your toes. Kids' boots should leave a little more for growth."},
				{Title: "Size guide for kids' hiking boots", Labels: []string{"size", "kids"},
					Body: "Our kids' boots run true to size from EU 28 to EU 39. Leave about 1 cm of room; children's feet grow half a size every few months."},
			}},
			{"Batteries and safety", []kbArticleSpec{
				{Title: "My headlamp battery is swelling", Labels: []string{"battery", "safety"},
					Body: "Stop using the headlamp and do not charge it. Put it on a non-flammable surface away from anything that could burn and contact us: we replace it and arrange a safe return."},
				{Title: "Which fuel canisters fit your stoves?", Labels: []string{"stove", "fuel"},
					Body: "Our stoves take standard threaded (EN 417) butane-propane canisters. Pierceable canisters do not fit, and a stripped thread on a canister means the canister, not the stove, must be replaced."},
			}},
		}},
	}
}

// htmlParagraphs turns blank-line separated text into HTML paragraphs.
func htmlParagraphs(s string) string {
	var b strings.Builder
	for _, p := range strings.Split(s, "\n\n") {
		b.WriteString("<p>" + strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(p, "&", "&amp;"), "<", "&lt;"), ">", "&gt;") + "</p>")
	}
	return b.String()
}

// seedHelpCenter creates the account's help center through the Help Center API.
func seedHelpCenter(ctx context.Context, a *accountSeed) error {
	var cats []kbCategorySpec
	if a.spec.Subdomain == "acme" {
		cats = acmeHelpCenter()
	}
	for i, c := range cats {
		cid, err := a.api.create(ctx, "/api/v2/help_center/categories.json", "category", map[string]any{"name": c.Name, "description": c.Description, "position": i, "locale": "en-us"})
		if err != nil {
			return err
		}
		for j, sec := range c.Sections {
			sid, err := a.api.create(ctx, fmt.Sprintf("/api/v2/help_center/categories/%d/sections.json", cid), "section", map[string]any{"name": sec.Name, "position": j})
			if err != nil {
				return err
			}
			for k, art := range sec.Articles {
				in := map[string]any{"title": art.Title, "body": htmlParagraphs(art.Body), "label_names": art.Labels, "position": k, "locale": "en-us"}
				switch art.Visibility {
				case "":
				case "organizations":
					in["visibility"], in["organization_ids"] = "organizations", []int64{a.orgs["Initech"]}
				default:
					in["visibility"] = art.Visibility
				}
				aid, err := a.api.create(ctx, fmt.Sprintf("/api/v2/help_center/sections/%d/articles.json", sid), "article", in)
				if err != nil {
					return err
				}
				if art.FrTitle != "" {
					if _, err := a.api.create(ctx, fmt.Sprintf("/api/v2/help_center/articles/%d/translations.json", aid), "translation", map[string]any{"locale": "fr", "title": art.FrTitle, "body": htmlParagraphs(art.FrBody)}); err != nil {
						return err
					}
				}
				if art.Title == "How do I make a warranty claim?" {
					// An article attachment: the claim form, listed under the article.
					if err := a.api.do(ctx, http.MethodPost, fmt.Sprintf("/api/v2/help_center/articles/%d/attachments.json?filename=warranty-claim-form.txt", aid), []byte(warrantyForm), nil); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// warrantyForm is the file attached to the demo's warranty claim article.
const warrantyForm = `Acme warranty claim form
Order number:
Product:
What went wrong, and when:
Attach a photo of the defect to your request.
`
