-- Organization memberships made by email-domain mapping remember the domain that made
-- them, so that removing the domain from the organization removes those memberships (as
-- Zendesk does). NULL for memberships added any other way.
ALTER TABLE organization_memberships ADD COLUMN via_domain TEXT;
