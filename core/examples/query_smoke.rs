use rosterdb::{NewRole, NewUser, Query, Store};
fn main() -> rosterdb::Result<()> {
    let s = Store::memory()?;
    let r = s.roles().create(NewRole::new("staff"))?;
    for i in 0..30u64 {
        let mut u = NewUser::new(
            format!("user{i}"),
            format!("u{i}@example.com"),
            "F",
            if i % 3 == 0 { "Lovelace" } else { "Hopper" },
        );
        u.enabled = i % 2 == 0;
        if i % 5 == 0 {
            u.roles = vec![r.id];
        }
        s.users().create(u)?;
    }
    for q in [
        Query::parse("enabled = true")?,
        Query::parse("lastName = 'lovelace' and enabled = true")?
            .sort("id:desc")
            .page(1, 3)
            .with_total(),
        Query::parse("roles eq 1")?,
        Query::parse("username co 'ser1'")?,
        Query::all().search("user2").with_total(),
        Query::from_params(&[
            ("lastName", "like:Hop%"),
            ("sort", "lastName,username:desc"),
            ("pageSize", "4"),
        ])?,
    ] {
        let page = s.users().list(&q)?;
        println!(
            "{:?} total={:?} next={}",
            page.items.iter().map(|u| u.id).collect::<Vec<_>>(),
            page.total,
            page.next_cursor.is_some()
        );
        println!(
            "  count={} exists={}",
            s.users().count(&q)?,
            s.users().exists(&q)?
        );
        println!("  {}", s.users().explain(&q)?.replace('\n', "\n  "));
        if let Some(c) = page.next_cursor {
            let p2 = s.users().list(&Query::all().cursor(&c))?;
            println!(
                "  next page: {:?}",
                p2.items.iter().map(|u| u.id).collect::<Vec<_>>()
            );
        }
    }
    Ok(())
}
