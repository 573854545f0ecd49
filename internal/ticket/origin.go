package ticket

// SharingOrigin names the sharing partner a change, a comment or an audit came from.
type SharingOrigin struct {
	AgreementID int64
	Partner     string // the agreement's name, as people read it
	// ShareID is the local share the change arrived through; 0 when the change creates
	// the local copy (its share is recorded right after the write).
	ShareID int64
}

// ShareRequest is one thing a change does to the ticket's sharing: start sharing it
// through an agreement, or end its share with one.
type ShareRequest struct {
	AgreementID int64
	// End ends the share (the sender unshares, or the receiver stops syncing its copy)
	// instead of starting one.
	End bool
	// Reason says why a share ends; it is shown on the share.
	Reason string
}

// The metadata keys under which origins are stored. The stored shape predates the typed
// fields and the API shows it, so it stays: an audit has {"sharing": {agreement_id,
// partner, share_id}}; a comment has flat sharing_agreement_id and partner.
const (
	auditSharingKey     = "sharing"
	commentAgreementKey = "sharing_agreement_id"
	commentPartnerKey   = "partner"
	originAgreementKey  = "agreement_id"
	originPartnerKey    = "partner"
	originShareKey      = "share_id"
)

func (o *SharingOrigin) auditMetadata() map[string]any {
	if o == nil {
		return map[string]any{}
	}
	return map[string]any{auditSharingKey: map[string]any{originAgreementKey: o.AgreementID, originPartnerKey: o.Partner, originShareKey: o.ShareID}}
}

func (o *SharingOrigin) commentMetadata() map[string]any {
	if o == nil {
		return map[string]any{}
	}
	return map[string]any{commentAgreementKey: o.AgreementID, commentPartnerKey: o.Partner}
}

// auditOrigin reads an audit's origin back from its stored metadata.
func auditOrigin(meta map[string]any) *SharingOrigin {
	m, ok := meta[auditSharingKey].(map[string]any)
	if !ok {
		return nil
	}
	o := &SharingOrigin{AgreementID: number(m[originAgreementKey]), ShareID: number(m[originShareKey])}
	o.Partner, _ = m[originPartnerKey].(string)
	return o
}

// commentOrigin reads a comment's origin back from its stored metadata.
func commentOrigin(meta map[string]any) *SharingOrigin {
	if _, ok := meta[commentAgreementKey]; !ok {
		return nil
	}
	o := &SharingOrigin{AgreementID: number(meta[commentAgreementKey])}
	o.Partner, _ = meta[commentPartnerKey].(string)
	return o
}

// number reads an integer that went through JSON (a float64) or not (an int64).
func number(v any) int64 {
	switch x := v.(type) {
	case float64:
		return int64(x)
	case int64:
		return x
	case int:
		return int64(x)
	}
	return 0
}
