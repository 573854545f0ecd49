package importer_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"tandem/internal/account"
	"tandem/internal/errs"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/importer"
	"tandem/internal/org"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
)

// newAccount creates an account of the plan.
func newAccount(t *testing.T, db *store.DB, sub string, plan account.Plan) *account.Account {
	t.Helper()
	ctx := context.Background()
	var a *account.Account
	err := db.Write(ctx, func(tx *store.Tx) error {
		var err error
		a, err = account.Create(ctx, tx, sub, sub, plan)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func write(t *testing.T, db *store.DB, f func(ctx context.Context, tx *store.Tx) error) {
	t.Helper()
	ctx := context.Background()
	if err := db.Write(ctx, func(tx *store.Tx) error { return f(ctx, tx) }); err != nil {
		t.Fatal(err)
	}
}

func importUsers(t *testing.T, db *store.DB, a *account.Account, csv string) *importer.Report {
	t.Helper()
	rep, err := importer.ImportUsers(context.Background(), db, a, strings.NewReader(csv), importer.Options{BatchSize: 4}, nil)
	if err != nil {
		t.Fatalf("import users: %v", err)
	}
	return rep
}

func importOrgs(t *testing.T, db *store.DB, a *account.Account, csv string) *importer.Report {
	t.Helper()
	rep, err := importer.ImportOrganizations(context.Background(), db, a, strings.NewReader(csv), importer.Options{BatchSize: 3}, nil)
	if err != nil {
		t.Fatalf("import organizations: %v", err)
	}
	return rep
}

// byLine indexes a report's rows by line.
func byLine(rep *importer.Report) map[int]importer.RowResult {
	out := map[int]importer.RowResult{}
	for _, r := range rep.Rows {
		out[r.Line] = r
	}
	return out
}

type want struct {
	status importer.Status
	field  string
	code   string
	reason string // substring
}

func checkRows(t *testing.T, rep *importer.Report, wants map[int]want) {
	t.Helper()
	got := byLine(rep)
	if len(got) != len(wants) {
		t.Errorf("%d rows in the report, want %d: %+v", len(got), len(wants), rep.Rows)
	}
	for line, w := range wants {
		r, ok := got[line]
		if !ok {
			t.Errorf("line %d: no result", line)
			continue
		}
		if r.Status != w.status || r.Field != w.field || r.Code != w.code || !strings.Contains(r.Reason, w.reason) {
			t.Errorf("line %d = %+v; want %+v", line, r, w)
		}
		if (r.Status == importer.Failed) != (r.ID == 0) {
			t.Errorf("line %d: status %s with ID %d", line, r.Status, r.ID)
		}
	}
}

// snapshot lists every user, organization and membership of an account with its
// updated_at, to prove an import changed nothing.
func snapshot(t *testing.T, db *store.DB, acct ids.Account) string {
	t.Helper()
	var b strings.Builder
	for _, q := range []string{
		`SELECT id, name, COALESCE(email, ''), role, updated_at, COALESCE(organization_id, 0) FROM users WHERE account_id = ? ORDER BY id`,
		`SELECT id, name, notes, domain_names, updated_at, 0 FROM organizations WHERE account_id = ? ORDER BY id`,
		`SELECT id, user_id, organization_id, is_default, updated_at, 0 FROM organization_memberships WHERE account_id = ? ORDER BY id`,
		`SELECT id, user_id, value, is_primary, updated_at, 0 FROM user_identities WHERE account_id = ? ORDER BY id`,
	} {
		rows, err := db.R().QueryContext(context.Background(), q, acct)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var v [6]any
			if err := rows.Scan(&v[0], &v[1], &v[2], &v[3], &v[4], &v[5]); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintln(&b, v[:]...)
		}
		rows.Close()
	}
	return b.String()
}

func userByEmail(t *testing.T, db *store.DB, acct ids.Account, email string) *identity.User {
	t.Helper()
	u, err := identity.ByEmail(context.Background(), db.R(), acct, email)
	if err != nil {
		t.Fatalf("user %s: %v", email, err)
	}
	return u
}

func orgNames(t *testing.T, db *store.DB, acct ids.Account, u ids.User) []string {
	t.Helper()
	return storetest.Strings(t, context.Background(), db, `SELECT o.name FROM organization_memberships m JOIN organizations o ON o.id = m.organization_id
		WHERE m.account_id = ? AND m.user_id = ? ORDER BY m.is_default DESC, o.name`, acct, u)
}

func countUsers(t *testing.T, db *store.DB, acct ids.Account) int {
	t.Helper()
	n, err := identity.Count(context.Background(), db.R(), acct, nil)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// usersFile has good, duplicate, malformed and hostile rows. Its line numbers are what
// TestImportUsersRowByRow checks.
var usersFile = strings.Join([]string{
	"Name,Email,External ID,Role,Organization,Tags,Details,Notes,Phone,Restriction,Favourite Colour,user_fields.plan",                   // 1
	`Ann Example,Ann@Acme.test,,end-user,Beta,vip gold,"details, with a comma","a note` + "\n" + `on two lines",+1 555 0100,,blue,gold`, // 2-3
	`Old Renamed,,OLD-1,,,,,,,,,`,                                         // 4: updates the existing user by external ID
	`Ann Again,ann@acme.test,,,,,,,,,,`,                                   // 5: duplicate of line 2
	`Bad Email,not-an-email,,,,,,,,,,`,                                    // 6
	`=cmd|' /C calc'!A0,formula@x.test,,,,,,,,,,`,                         // 7: formula text is stored as given
	`"Unclosed,unclosed@x.test,,,,,,,,,,`,                                 // 8: broken quoting costs this row only
	`After Broken,after@x.test,,,,,,,,,,`,                                 // 9
	"Jos\xe9 Latin,jose@x.test,,,,,,,,,,",                                 // 10: Latin-1 byte
	strings.Repeat("n", 10000) + `,long@x.test,,,,,,,,,,`,                 // 11: name over its limit
	`Long Notes,notes@x.test,,,,,,` + strings.Repeat("x", 10000) + `,,,,`, // 12: notes within theirs
	`Too,Many,Fields,,,,,,,,,,,`,                                          // 13
	`Ghost Org,ghost@x.test,,,Nowhere Inc,,,,,,,`,                         // 14: the user must not be created either
	`Overlord,overlord@x.test,,overlord,,,,,,,,`,                          // 15
	`"Robert'); DROP TABLE users;--",bobby@x.test,,,,,,,,,,`,              // 16
	`<script>alert(1)</script>,xss@x.test,,,,,,,,,,`,                      // 17
	"Nul\x00Byte,nul@x.test,,,,,,,,,,",                                    // 18
	`No Key,,,,,,,,,,,`,                                                   // 19
	`Agnes Agent,agnes@acme.test,AG-1,Agent,Acme|Beta,,,,,groups,,`,       // 20
	`,newbie@x.test,,,,,,,,,,`,                                            // 21: a new user needs a name
}, "\n") + "\n"

func TestImportUsersRowByRow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		a := newAccount(t, db, "acme", account.Enterprise)
		var old *identity.User
		write(t, db, func(ctx context.Context, tx *store.Tx) error {
			if err := org.CreateOrg(ctx, tx, a, &org.Organization{Name: "Acme", DomainNames: []string{"acme.test"}}); err != nil {
				return err
			}
			if err := org.CreateOrg(ctx, tx, a, &org.Organization{Name: "Beta"}); err != nil {
				return err
			}
			old = &identity.User{AccountID: a.ID, Name: "Old Name", Email: "old@x.test", ExternalID: "OLD-1", Role: identity.EndUser, Verified: true, Notes: "keep me"}
			return identity.Insert(ctx, tx, old)
		})
		var calls [][2]int
		rep, err := importer.ImportUsers(context.Background(), db, a, strings.NewReader(usersFile), importer.Options{BatchSize: 4}, func(done, total int) {
			calls = append(calls, [2]int{done, total})
		})
		if err != nil {
			t.Fatal(err)
		}
		checkRows(t, rep, map[int]want{
			2:  {importer.Created, "", "", ""},
			4:  {importer.Updated, "", "", ""},
			5:  {importer.Failed, "email", "DuplicateValue", "already on line 2"},
			6:  {importer.Failed, "email", "InvalidValue", "not a valid email"},
			7:  {importer.Created, "", "", ""},
			8:  {importer.Failed, "", "MalformedRow", "quote"},
			9:  {importer.Created, "", "", ""},
			10: {importer.Failed, "name", "InvalidEncoding", "not UTF-8"},
			11: {importer.Failed, "name", "TooLong", "maximum is 255"},
			12: {importer.Created, "", "", ""},
			13: {importer.Failed, "", "MalformedRow", "header has 12 columns"},
			14: {importer.Failed, "organization", "InvalidValue", `"Nowhere Inc" does not exist`},
			15: {importer.Failed, "role", "InvalidValue", "end-user, agent or admin"},
			16: {importer.Created, "", "", ""},
			17: {importer.Created, "", "", ""},
			18: {importer.Failed, "name", "InvalidValue", "NUL"},
			19: {importer.Failed, "email", "BlankValue", "external_id"},
			20: {importer.Created, "", "", ""},
			21: {importer.Failed, "name", "BlankValue", "new user"},
		})
		if rep.Created != 7 || rep.Updated != 1 || rep.Unchanged != 0 || rep.Failed != 11 {
			t.Errorf("counts = %d created, %d updated, %d unchanged, %d failed", rep.Created, rep.Updated, rep.Unchanged, rep.Failed)
		}
		if len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], "Favourite Colour") {
			t.Errorf("warnings = %q", rep.Warnings)
		}
		if len(calls) == 0 || calls[len(calls)-1] != [2]int{19, 19} || calls[0] != [2]int{0, 19} {
			t.Errorf("progress calls = %v", calls)
		}
		// The good rows are stored as given, hostile text included, and the failed
		// ones left nothing behind.
		ann := userByEmail(t, db, a.ID, "ann@acme.test")
		if ann.Name != "Ann Example" || !ann.Verified || ann.Details != "details, with a comma" || ann.Notes != "a note\non two lines" ||
			ann.Phone != "+1 555 0100" || !slices.Equal(ann.Tags, []string{"vip", "gold"}) || ann.UserFields["plan"] != "gold" {
			t.Errorf("ann = %+v", ann)
		}
		if got := orgNames(t, db, a.ID, ann.ID); !slices.Equal(got, []string{"Beta", "Acme"}) {
			t.Errorf("ann's organizations (default first) = %q; want Beta from the file, Acme by her domain", got)
		}
		for email, name := range map[string]string{"formula@x.test": "=cmd|' /C calc'!A0", "bobby@x.test": "Robert'); DROP TABLE users;--", "xss@x.test": "<script>alert(1)</script>"} {
			if u := userByEmail(t, db, a.ID, email); u.Name != name {
				t.Errorf("%s: name %q, want %q", email, u.Name, name)
			}
		}
		agnes := userByEmail(t, db, a.ID, "agnes@acme.test")
		if agnes.Role != identity.Agent || agnes.TicketRestriction != identity.RestrictGroups || agnes.ExternalID != "AG-1" {
			t.Errorf("agnes = %+v", agnes)
		}
		if got := orgNames(t, db, a.ID, agnes.ID); !slices.Equal(got, []string{"Acme", "Beta"}) {
			t.Errorf("agnes's organizations = %q", got)
		}
		updated, err := identity.Get(context.Background(), db.R(), a.ID, old.ID)
		if err != nil {
			t.Fatal(err)
		}
		if updated.Name != "Old Renamed" || updated.Notes != "keep me" || updated.Email != "old@x.test" {
			t.Errorf("the matched user = %+v; want the name changed and the rest kept", updated)
		}
		for _, email := range []string{"ghost@x.test", "unclosed@x.test", "overlord@x.test", "nul@x.test", "long@x.test", "newbie@x.test", "jose@x.test"} {
			if _, err := identity.ByEmail(context.Background(), db.R(), a.ID, email); !errs.Is(err, errs.NotFound) {
				t.Errorf("%s exists after a failed row (err %v)", email, err)
			}
		}
		if n := countUsers(t, db, a.ID); n != 8 {
			t.Errorf("%d users, want 8 (1 before + 7 created)", n)
		}

		// The same file again changes nothing: no row is written, no updated_at moves.
		before := snapshot(t, db, a.ID)
		again := importUsers(t, db, a, usersFile)
		if again.Created != 0 || again.Updated != 0 || again.Unchanged != 8 || again.Failed != 11 {
			t.Errorf("re-run counts = %d created, %d updated, %d unchanged, %d failed", again.Created, again.Updated, again.Unchanged, again.Failed)
		}
		if after := snapshot(t, db, a.ID); after != before {
			t.Errorf("a re-run changed the database:\nbefore:\n%s\nafter:\n%s", before, after)
		}
	})
}

func TestImportUsersTenantIsolation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		a := newAccount(t, db, "acme", account.Enterprise)
		b := newAccount(t, db, "globex", account.Enterprise)
		write(t, db, func(ctx context.Context, tx *store.Tx) error {
			if err := org.CreateOrg(ctx, tx, b, &org.Organization{Name: "Globex Only", DomainNames: []string{"shared.test"}}); err != nil {
				return err
			}
			return identity.Insert(ctx, tx, &identity.User{AccountID: b.ID, Name: "B's Bob", Email: "bob@shared.test", ExternalID: "EXT-B", Role: identity.Admin, Verified: true})
		})
		beforeB := snapshot(t, db, b.ID)
		rep := importUsers(t, db, a, "name,email,external_id,role,organization\n"+
			"A's Bob,bob@shared.test,EXT-B,end-user,\n"+
			"Carol,carol@shared.test,,,Globex Only\n")
		checkRows(t, rep, map[int]want{
			2: {importer.Created, "", "", ""},
			3: {importer.Failed, "organization", "InvalidValue", "does not exist"},
		})
		if after := snapshot(t, db, b.ID); after != beforeB {
			t.Errorf("importing into acme changed globex:\nbefore:\n%s\nafter:\n%s", beforeB, after)
		}
		bob := userByEmail(t, db, a.ID, "bob@shared.test")
		if bob.Name != "A's Bob" || bob.Role != identity.EndUser || bob.AccountID != a.ID || len(orgNames(t, db, a.ID, bob.ID)) != 0 {
			t.Errorf("acme's bob = %+v", bob)
		}
		rep = importOrgs(t, db, a, "name,external_id,domain_names\nGlobex Only,,shared.test\n")
		checkRows(t, rep, map[int]want{2: {importer.Created, "", "", ""}})
		if after := snapshot(t, db, b.ID); after != beforeB {
			t.Errorf("importing organizations into acme changed globex")
		}
		if got := orgNames(t, db, a.ID, bob.ID); !slices.Equal(got, []string{"Globex Only"}) {
			t.Errorf("acme's bob joined %q by domain; want acme's own organization", got)
		}
	})
}

func TestImportOrganizations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		a := newAccount(t, db, "acme", account.Professional)
		var eve *identity.User
		write(t, db, func(ctx context.Context, tx *store.Tx) error {
			if err := org.CreateGroup(ctx, tx, &org.Group{AccountID: a.ID, Name: "Support"}); err != nil {
				return err
			}
			if err := org.CreateOrg(ctx, tx, a, &org.Organization{Name: "Existing", ExternalID: "ORG-9", Notes: "kept"}); err != nil {
				return err
			}
			eve = &identity.User{AccountID: a.ID, Name: "Eve", Email: "eve@initech.test", Role: identity.EndUser, Verified: true}
			return identity.Insert(ctx, tx, eve)
		})
		file := strings.Join([]string{
			"name,external_id,details,notes,domain_names,shared_tickets,shared_comments,group,tags,organization_fields.tier,color",
			`Initech,ORG-1,"big, old",,initech.test @Initech.test,yes,no,support,Gold  silver,platinum,red`, // 2
			`Renamed Existing,ORG-9,,,,,,,,,`,          // 3
			`initech,,,,,,,,,,`,                        // 4: duplicate name
			`Bad Domain,,,,not_a_domain,,,,,,`,         // 5
			`Bad Bool,,,,,maybe,,,,,`,                  // 6
			`No Group,,,,,,,Nobody,,,`,                 // 7
			strings.Repeat("o", 300) + `,,,,,,,,,,`,    // 8
			`=HYPERLINK("http://evil.test"),,,,,,,,,,`, // 9
			`,,,,,,,,,,`,        // skipped: empty
			`,ORG-NEW,,,,,,,,,`, // 11: new organization without a name
		}, "\n")
		rep := importOrgs(t, db, a, file)
		checkRows(t, rep, map[int]want{
			2:  {importer.Created, "", "", ""},
			3:  {importer.Updated, "", "", ""},
			4:  {importer.Failed, "name", "DuplicateValue", "line 2"},
			5:  {importer.Failed, "domain_names", "InvalidValue", "not_a_domain"},
			6:  {importer.Failed, "shared_tickets", "InvalidValue", "true or false"},
			7:  {importer.Failed, "group", "InvalidValue", "Nobody"},
			8:  {importer.Failed, "name", "TooLong", "255"},
			9:  {importer.Created, "", "", ""},
			11: {importer.Failed, "name", "BlankValue", "new organization"},
		})
		if len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], "color") {
			t.Errorf("warnings = %q", rep.Warnings)
		}
		o, err := org.OrgByExternalID(context.Background(), db.R(), a.ID, "org-1")
		if err != nil {
			t.Fatal(err)
		}
		if o.Name != "Initech" || o.Details != "big, old" || !slices.Equal(o.DomainNames, []string{"initech.test"}) || !o.SharedTickets || o.SharedComments ||
			o.GroupID == 0 || !slices.Equal(o.Tags, []string{"gold", "silver"}) || o.Fields["tier"] != "platinum" {
			t.Errorf("initech = %+v", o)
		}
		if got := orgNames(t, db, a.ID, eve.ID); !slices.Equal(got, []string{"Initech"}) {
			t.Errorf("eve's organizations = %q; want Initech by her domain", got)
		}
		ex, err := org.OrgByExternalID(context.Background(), db.R(), a.ID, "ORG-9")
		if err != nil {
			t.Fatal(err)
		}
		if ex.Name != "Renamed Existing" || ex.Notes != "kept" {
			t.Errorf("existing = %+v", ex)
		}
		before := snapshot(t, db, a.ID)
		again := importOrgs(t, db, a, file)
		if again.Created != 0 || again.Updated != 0 || again.Unchanged != 3 || again.Failed != 6 {
			t.Errorf("re-run: %d created, %d updated, %d unchanged, %d failed", again.Created, again.Updated, again.Unchanged, again.Failed)
		}
		if after := snapshot(t, db, a.ID); after != before {
			t.Errorf("a re-run changed the database:\nbefore:\n%s\nafter:\n%s", before, after)
		}
	})
}

func TestImportMembershipPlanLimits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		// One organization per user on Team and Growth: two in a row are refused, one
		// replaces the user's.
		for _, plan := range []account.Plan{account.Team, account.Growth} {
			a := newAccount(t, db, string(plan), plan)
			importOrgs(t, db, a, "name\nOne\nTwo\n")
			rep := importUsers(t, db, a, "name,email,organization\nEve,eve@x.test,One|Two\nOtto,otto@x.test,One\n")
			checkRows(t, rep, map[int]want{
				2: {importer.Failed, "", "PlanRequired", "Professional"},
				3: {importer.Created, "", "", ""},
			})
			rep = importUsers(t, db, a, "name,email,organization\nOtto,otto@x.test,Two\n")
			checkRows(t, rep, map[int]want{2: {importer.Updated, "", "", ""}})
			if got := orgNames(t, db, a.ID, userByEmail(t, db, a.ID, "otto@x.test").ID); !slices.Equal(got, []string{"Two"}) {
				t.Errorf("%s: otto's organizations = %q", plan, got)
			}
		}

		// Up to 300 on Professional: the 301st is refused with a clear reason, and the
		// rest of that row is rolled back with it.
		a := newAccount(t, db, "pro", account.Professional)
		var orgs strings.Builder
		orgs.WriteString("name\n")
		names := make([]string, 301)
		for i := range names {
			names[i] = fmt.Sprintf("Org %03d", i+1)
			orgs.WriteString(names[i] + "\n")
		}
		if rep := importOrgs(t, db, a, orgs.String()); rep.Created != 301 {
			t.Fatalf("created %d organizations", rep.Created)
		}
		rep := importUsers(t, db, a, "name,email,organization\n"+
			"Many,many@x.test,"+strings.Join(names[:300], "|")+"\n"+
			"Too Many,toomany@x.test,"+strings.Join(names, "|")+"\n")
		checkRows(t, rep, map[int]want{
			2: {importer.Created, "", "", ""},
			3: {importer.Failed, "organization", "TooManyOrganizations", "at most 300"},
		})
		many := userByEmail(t, db, a.ID, "many@x.test")
		if got := orgNames(t, db, a.ID, many.ID); len(got) != 300 || got[0] != "Org 001" || many.OrganizationID == 0 {
			t.Fatalf("many is in %d organizations, default %q (organization_id %d)", len(got), got[0], many.OrganizationID)
		}
		rep = importUsers(t, db, a, "name,email,organization\nRenamed Many,many@x.test,Org 301\n")
		checkRows(t, rep, map[int]want{2: {importer.Failed, "organization", "TooManyOrganizations", "Organization: a user can belong to at most 300 organizations"}})
		if u := userByEmail(t, db, a.ID, "many@x.test"); u.Name != "Many" {
			t.Errorf("the refused row's name change was kept: %q", u.Name)
		}
	})
}

func TestImportDryRunWritesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		a := newAccount(t, db, "acme", account.Enterprise)
		before := snapshot(t, db, a.ID)
		rep, err := importer.ImportUsers(context.Background(), db, a, strings.NewReader(usersFile), importer.Options{DryRun: true}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !rep.DryRun || rep.Created == 0 {
			t.Fatalf("dry run report = %+v", rep)
		}
		if after := snapshot(t, db, a.ID); after != before {
			t.Errorf("a dry run wrote:\n%s", after)
		}
	})
}

func TestImportFileProblems(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	a := newAccount(t, db, "acme", account.Enterprise)
	agent := &identity.User{ID: 5, AccountID: a.ID, Role: identity.Agent}
	cases := []struct {
		name string
		in   string
		opts importer.Options
		code errs.Code
		want string
	}{
		{"empty", "  \n", importer.Options{}, errs.BadRequest, "empty"},
		{"UTF-16", "\xff\xfen\x00a\x00m\x00e\x00", importer.Options{}, errs.BadRequest, "UTF-16"},
		{"Latin-1 header", "nom,pr\xe9nom,email\n", importer.Options{}, errs.BadRequest, "not UTF-8"},
		{"no key column", "name,phone\nAnn,1\n", importer.Options{}, errs.BadRequest, "email or an external_id"},
		{"NUL in the header", "email,no\x00te\na@x.test,1\n", importer.Options{}, errs.BadRequest, "NUL"},
		{"column twice", "email,Email\na@x.test,b@x.test\n", importer.Options{}, errs.BadRequest, "twice"},
		{"agents cannot import", "email\na@x.test\n", importer.Options{Actor: agent}, errs.Forbidden, "admins"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := importer.ImportUsers(context.Background(), db, a, strings.NewReader(c.in), c.opts, nil)
			if errs.CodeOf(err) != c.code || err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v (%s), want %s containing %q", err, errs.CodeOf(err), c.code, c.want)
			}
		})
	}
	// A UTF-8 byte order mark (Excel's "CSV UTF-8") is fine.
	rep := importUsers(t, db, a, "\xef\xbb\xbfName,Email\nBom,bom@x.test\n")
	checkRows(t, rep, map[int]want{2: {importer.Created, "", "", ""}})
}

func TestImportAdminCannotChangeOwnRole(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	a := newAccount(t, db, "acme", account.Enterprise)
	me := &identity.User{AccountID: a.ID, Name: "Me", Email: "me@x.test", Role: identity.Admin, Verified: true}
	write(t, db, func(ctx context.Context, tx *store.Tx) error { return identity.Insert(ctx, tx, me) })
	rep, err := importer.ImportUsers(context.Background(), db, a, strings.NewReader("email,role\nme@x.test,end-user\n"), importer.Options{Actor: me}, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkRows(t, rep, map[int]want{2: {importer.Failed, "role", "Forbidden", "yourself"}})
}

// TestImportOneUserNamedTwice: two rows of one batch reach the same user by different
// keys (external ID, then email); both rows' changes are kept.
func TestImportOneUserNamedTwice(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		a := newAccount(t, db, "acme", account.Enterprise)
		write(t, db, func(ctx context.Context, tx *store.Tx) error {
			return identity.Insert(ctx, tx, &identity.User{AccountID: a.ID, Name: "Uma", Email: "uma@x.test", ExternalID: "U-1", Role: identity.EndUser, Verified: true})
		})
		rep := importUsers(t, db, a, "name,email,external_id,notes\nUma Renamed,,U-1,\n,uma@x.test,,a note\n")
		checkRows(t, rep, map[int]want{2: {importer.Updated, "", "", ""}, 3: {importer.Updated, "", "", ""}})
		u := userByEmail(t, db, a.ID, "uma@x.test")
		if u.Name != "Uma Renamed" || u.Notes != "a note" {
			t.Errorf("uma = %+v; want every row's change", u)
		}
	})
}
