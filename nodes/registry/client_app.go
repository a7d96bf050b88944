package registry

// PublishApp stores an application revision and publishes the app's
// publisher regID at addr naming it (app-level discovery, app.go); it
// returns the publisher's version. A reconnect registers the revision
// again with the publisher: the session may have dropped it (the client
// was switched off), and a publisher must never name a revision that was
// not stored.
func (c *Client) PublishApp(rev AppRevision, regID, addr string) uint64 {
	c.vers[regID]++
	p := &Pub{DataID: AppDataID(rev.App), RegID: regID, Data: AppPubData(addr, rev.Revision), Version: c.vers[regID]}
	c.pubs[regID] = p
	c.revs[regID] = rev
	c.send(c.registration(regID))
	return p.Version
}

// registration is what registers publisher regID on a connection.
func (c *Client) registration(regID string) any {
	p := c.stamp(*c.pubs[regID])
	if rev, ok := c.revs[regID]; ok && p.DataID == AppDataID(rev.App) && revisionOf(p.Data) == rev.Revision {
		return &ClientRevision{Rev: rev, Pub: p}
	}
	return &ClientPublish{Pub: p}
}
