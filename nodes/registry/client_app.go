package registry

// PublishApp stores an application revision and publishes the app's
// publisher regID at addr naming it (app-level discovery, app.go); it
// returns the publisher's version. A reconnect registers the publisher
// again as any other: its revision is stored by then.
func (c *Client) PublishApp(rev AppRevision, regID, addr string) uint64 {
	c.vers[regID]++
	p := &Pub{DataID: AppDataID(rev.App), RegID: regID, Data: AppPubData(addr, rev.Revision), Version: c.vers[regID]}
	c.pubs[regID] = p
	c.env.Send(c.conn, &ClientRevision{Rev: rev, Pub: c.stamp(*p)})
	return p.Version
}
