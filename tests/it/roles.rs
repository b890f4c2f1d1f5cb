use crate::harness::*;
use serde_json::json;

fn emails(r: &Resp) -> Vec<String> {
    let mut v: Vec<String> = r
        .json
        .as_array()
        .expect("list")
        .iter()
        .map(|s| s["email"].as_str().unwrap_or("").to_string())
        .collect();
    v.sort();
    v
}

#[actix_web::test]
async fn agents_see_themselves_and_cannot_administer() {
    let app = TestApp::start().await;
    let owner = app.owner().await;
    let support = app.group(&owner, "Support").await;
    let (agent, agent_id) = app
        .staff(&owner, "ann@example.com", "agent", &[&support])
        .await;
    let (_, other_id) = app
        .staff(&owner, "bob@example.com", "agent", &[&support])
        .await;

    assert_eq!(
        emails(&agent.get("/api/staff").await),
        vec!["ann@example.com"]
    );
    assert_eq!(
        agent.get(&format!("/api/staff/{other_id}")).await.code(),
        "staff_not_found"
    );
    let r = agent
        .post("/api/staff", json!({"email": "x@example.com", "display_name": "X", "role": "agent", "password": "whatever1"}))
        .await;
    assert_eq!((r.status, r.code()), (403, "forbidden"));
    assert_eq!(
        agent
            .post("/api/groups", json!({"name": "Mine"}))
            .await
            .status,
        403
    );
    assert_eq!(
        agent
            .patch(
                &format!("/api/groups/{support}"),
                json!({"queue_online": false})
            )
            .await
            .status,
        403
    );
    assert_eq!(
        agent.delete(&format!("/api/groups/{support}")).await.status,
        403
    );
    assert_eq!(
        agent
            .patch(
                &format!("/api/staff/{other_id}"),
                json!({"display_name": "B"})
            )
            .await
            .status,
        404
    );
    let r = agent
        .patch(
            &format!("/api/staff/{agent_id}"),
            json!({"max_concurrent_chats": 9}),
        )
        .await;
    assert_eq!(r.status, 403, "own limit is set by an admin");
    let r = agent
        .patch(
            &format!("/api/staff/{agent_id}"),
            json!({"display_name": "Annie"}),
        )
        .await;
    assert_eq!(
        (r.status, r.json["display_name"].as_str()),
        (200, Some("Annie"))
    );
    // Agents see their own groups only.
    let _sales = app.group(&owner, "Sales").await;
    let groups = agent.get("/api/groups").await;
    assert_eq!(groups.json.as_array().map(Vec::len), Some(1));
    assert_eq!(
        agent
            .post(
                &format!("/api/staff/{other_id}/password"),
                json!({"password": "hijacked!!"})
            )
            .await
            .status,
        403
    );
}

#[actix_web::test]
async fn managers_manage_their_own_groups_only() {
    let app = TestApp::start().await;
    let owner = app.owner().await;
    let support = app.group(&owner, "Support").await;
    let sales = app.group(&owner, "Sales").await;
    let (manager, _) = app
        .staff(&owner, "mia@example.com", "manager", &[&support])
        .await;
    app.staff(&owner, "ann@example.com", "agent", &[&support])
        .await;
    let (_, sales_agent) = app
        .staff(&owner, "sam@example.com", "agent", &[&sales])
        .await;

    assert_eq!(
        emails(&manager.get("/api/staff").await),
        vec!["ann@example.com", "mia@example.com"]
    );
    assert_eq!(
        manager
            .get(&format!("/api/staff/{sales_agent}"))
            .await
            .status,
        404
    );
    let r = manager
        .patch(
            &format!("/api/groups/{support}"),
            json!({"queue_online": false, "routing": "least_busy"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["routing"], "least_busy");
    let r = manager
        .patch(
            &format!("/api/groups/{sales}"),
            json!({"queue_online": false}),
        )
        .await;
    assert_eq!(r.status, 404, "another group is not even visible");
    assert_eq!(
        manager
            .post("/api/groups", json!({"name": "New"}))
            .await
            .status,
        403
    );
    assert_eq!(
        manager
            .delete(&format!("/api/groups/{support}"))
            .await
            .status,
        403
    );
    let r = manager
        .post("/api/staff", json!({"email": "x@example.com", "display_name": "X", "role": "agent", "password": "whatever1"}))
        .await;
    assert_eq!(r.status, 403);
}

#[actix_web::test]
async fn admins_administer_everyone_but_the_owner() {
    let app = TestApp::start().await;
    let owner = app.owner().await;
    let owner_id = owner.get("/api/auth/me").await.json["staff"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let (admin, admin_id) = app.staff(&owner, "ada@example.com", "admin", &[]).await;
    let (_, agent_id) = app.staff(&admin, "ann@example.com", "agent", &[]).await;
    let new_owner = json!({"email": "o2@example.com", "display_name": "O", "role": "owner", "password": "whatever1"});
    admin
        .expect_statuses(&[
            (
                "PATCH",
                format!("/api/staff/{agent_id}"),
                json!({"role": "manager", "max_concurrent_chats": 5}),
                200,
            ),
            // Not the owner's account, password or ownership.
            (
                "PATCH",
                format!("/api/staff/{owner_id}"),
                json!({"display_name": "X"}),
                403,
            ),
            (
                "PATCH",
                format!("/api/staff/{owner_id}"),
                json!({"disabled": true}),
                403,
            ),
            (
                "POST",
                format!("/api/staff/{owner_id}/password"),
                json!({"password": "taken over"}),
                403,
            ),
            (
                "POST",
                format!("/api/staff/{admin_id}/transfer-ownership"),
                json!(null),
                403,
            ),
            // Not their own role or account.
            (
                "PATCH",
                format!("/api/staff/{admin_id}"),
                json!({"role": "agent"}),
                403,
            ),
            (
                "PATCH",
                format!("/api/staff/{admin_id}"),
                json!({"disabled": true}),
                403,
            ),
            // Nobody is made or created owner.
            (
                "PATCH",
                format!("/api/staff/{agent_id}"),
                json!({"role": "owner"}),
                403,
            ),
            ("POST", "/api/staff".to_string(), new_owner, 403),
            (
                "POST",
                format!("/api/staff/{agent_id}/password"),
                json!({"password": "reset by admin"}),
                204,
            ),
        ])
        .await;
    assert_eq!(
        admin.get(&format!("/api/staff/{agent_id}")).await.json["role"],
        "manager"
    );
    let mut c = app.client();
    assert_eq!(
        c.login("ann@example.com", "reset by admin").await.status,
        200
    );
}

#[actix_web::test]
async fn there_is_always_exactly_one_owner() {
    let app = TestApp::start().await;
    let owner = app.owner().await;
    let owner_id = owner.get("/api/auth/me").await.json["staff"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let (admin, admin_id) = app.staff(&owner, "ada@example.com", "admin", &[]).await;
    let (_, agent_id) = app.staff(&owner, "ann@example.com", "agent", &[]).await;
    assert_eq!(
        owner
            .patch(&format!("/api/staff/{owner_id}"), json!({"disabled": true}))
            .await
            .status,
        403
    );
    assert_eq!(
        owner
            .patch(&format!("/api/staff/{owner_id}"), json!({"role": "admin"}))
            .await
            .status,
        403
    );
    let r = owner
        .post(
            &format!("/api/staff/{agent_id}/transfer-ownership"),
            json!(null),
        )
        .await;
    assert_eq!(r.status, 403, "only to an admin");
    let r = owner
        .post(
            &format!("/api/staff/{admin_id}/transfer-ownership"),
            json!(null),
        )
        .await;
    assert_eq!(
        (r.status, r.json["role"].as_str()),
        (200, Some("owner")),
        "{}",
        r.json
    );
    let all = admin.get("/api/staff").await;
    let owners: Vec<_> = all
        .json
        .as_array()
        .expect("list")
        .iter()
        .filter(|s| s["role"] == "owner")
        .collect();
    assert_eq!(owners.len(), 1);
    assert_eq!(owners[0]["id"].as_str(), Some(admin_id.as_str()));
    assert_eq!(
        owner.get("/api/auth/me").await.json["staff"]["role"],
        "admin"
    );
    let r = owner
        .post(
            &format!("/api/staff/{admin_id}/transfer-ownership"),
            json!(null),
        )
        .await;
    assert_eq!(r.status, 403, "the former owner can no longer hand it over");
}

#[actix_web::test]
async fn staff_and_group_edits_are_validated_and_unique() {
    let app = TestApp::start().await;
    let owner = app.owner().await;
    let support = app.group(&owner, "Support").await;
    assert_eq!(
        owner
            .post("/api/groups", json!({"name": "support"}))
            .await
            .code(),
        "group_name_taken"
    );
    let r = owner.post("/api/groups", json!({"name": "Bad", "widget": {"title": "T", "color": "red", "greeting": "", "language": "en"}})).await;
    assert_eq!(r.code(), "invalid_field");
    let (_, ann) = app
        .staff(&owner, "ann@example.com", "agent", &[&support])
        .await;
    let r = owner
        .post("/api/staff", json!({"email": "ANN@example.com", "display_name": "A", "role": "agent", "password": "whatever1"}))
        .await;
    assert_eq!((r.status, r.code()), (409, "email_taken"));
    let r = owner
        .post("/api/staff", json!({"email": "x@example.com", "display_name": "X", "role": "agent", "password": "whatever1",
                                   "groups": ["0192f1e4-7c2a-7b3e-9a51-3f0c2d8e4b10"]}))
        .await;
    assert_eq!((r.status, r.code()), (404, "group_not_found"));
    // Deleting a group removes it from its members.
    assert_eq!(
        owner.delete(&format!("/api/groups/{support}")).await.status,
        204
    );
    let r = owner.get(&format!("/api/staff/{ann}")).await;
    assert_eq!(r.json["groups"], json!([]));
    assert_eq!(
        owner.get(&format!("/api/groups/{support}")).await.code(),
        "group_not_found"
    );
}
