//! The knowledge base over the real server: admins write articles, a
//! visitor's question (with a typo) finds the right one first, drafts and
//! other groups' articles are never suggested, "this solved it" is counted
//! and starts no chat, staff see what their role allows, the page of an
//! article is safe HTML, and a lost index is rebuilt from the store.

use crate::harness::*;
use serde_json::{json, Value};

async fn write(owner: &Client, body: Value) -> String {
    let r = owner.post("/api/articles", body).await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.json["id"].as_str().unwrap().to_string()
}

fn titles(v: &Value) -> Vec<String> {
    v["articles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["title"].as_str().unwrap().to_string())
        .collect()
}

struct Kb {
    desk: Desk,
    sales: String,
    returns: String,
    draft: String,
    shipping: String,
}

async fn kb() -> Kb {
    let desk = Desk::new("round_robin").await;
    let sales = desk.app.group(&desk.owner, "Sales").await;
    let o = &desk.owner;
    let returns = write(
        o,
        json!({"title": "Returning a kettle", "tags": ["returns", "Kettle"], "published": true,
               "body": "Send the **kettle** back within 30 days and we refund you.\n\n<script>window.x=1</script>"}),
    )
    .await;
    write(
        o,
        json!({"title": "Opening hours", "published": true,
               "body": "We answer chats on weekdays from 9 to 17."}),
    )
    .await;
    let draft = write(
        o,
        json!({"title": "Refund policy for returned kettles (draft)",
               "body": "Kettles returned within 30 days are refunded."}),
    )
    .await;
    let shipping = write(
        o,
        json!({"title": "Shipping a kettle abroad", "group": sales, "published": true,
               "body": "Kettles ship to Norway and Denmark in 4 days."}),
    )
    .await;
    write(
        o,
        json!({"title": "Returnera en vattenkokare", "language": "sv", "published": true,
               "body": "Skicka tillbaka vattenkokaren inom 30 dagar."}),
    )
    .await;
    Kb {
        desk,
        sales,
        returns,
        draft,
        shipping,
    }
}

async fn suggest(desk: &Desk, group: &str, q: &str) -> Value {
    let r = desk
        .app
        .client()
        .get(&format!(
            "/api/visitor/articles?group={group}&q={}",
            q.replace(' ', "%20")
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json
}

#[actix_web::test]
async fn a_question_with_a_typo_finds_its_article_first_and_drafts_are_never_suggested() {
    let k = kb().await;
    let d = &k.desk;
    let s = suggest(d, &d.group, "How do I retrun my ketle?").await;
    assert_eq!(s["articles"][0]["id"], k.returns.as_str(), "{s}");
    assert!(
        s["articles"][0]["excerpt"]
            .as_str()
            .unwrap()
            .starts_with("Send the kettle back"),
        "{s}"
    );
    for (group, q) in [
        (&d.group, "refund policy returned kettles"),
        (&k.sales, "refund policy returned kettles draft"),
    ] {
        let s = suggest(d, group, q).await;
        assert!(
            !s.to_string().contains(&k.draft),
            "a draft is never suggested: {s}"
        );
    }
    // Another group's article only to that group's visitors.
    let s = suggest(d, &d.group, "shipping abroad Norway").await;
    assert!(!s.to_string().contains(&k.shipping), "{s}");
    let s = suggest(d, &k.sales, "shipping abroad Norway").await;
    assert_eq!(s["articles"][0]["id"], k.shipping.as_str(), "{s}");
    // Stemming per language; at most three; nothing for nothing.
    let s = suggest(d, &d.group, "vattenkokaren").await;
    assert_eq!(titles(&s), ["Returnera en vattenkokare"]);
    assert!(
        suggest(d, &d.group, "kettle").await["articles"]
            .as_array()
            .unwrap()
            .len()
            <= 3
    );
    assert_eq!(suggest(d, &d.group, "   ").await["articles"], json!([]));
    let unknown = d
        .app
        .client()
        .get("/api/visitor/articles?group=0192f1e4-7c2a-7b3e-9a51-3f0c2d8e4b10&q=kettle")
        .await;
    assert_eq!((unknown.status, unknown.code()), (404, "group_not_found"));

    // The widget reads a published article as safe HTML; a draft is 404.
    let a = d
        .app
        .client()
        .get(&format!("/api/visitor/articles/{}", k.returns))
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    let html = a.json["html"].as_str().unwrap();
    assert!(
        html.contains("<strong>kettle</strong>") && !html.contains("<script"),
        "{html}"
    );
    let draft = d
        .app
        .client()
        .get(&format!("/api/visitor/articles/{}", k.draft))
        .await;
    assert_eq!((draft.status, draft.code()), (404, "article_not_found"));
    // Its page, the link an agent sends.
    let page = d.app.client().get(&format!("/kb/{}", k.returns)).await;
    assert_eq!(page.status, 200);
    assert!(page
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    assert!(
        page.text.contains("<h1>Returning a kettle</h1>") && !page.text.contains("<script"),
        "{}",
        page.text
    );
    assert!(page
        .header("content-security-policy")
        .unwrap()
        .contains("default-src 'none'"));
    assert_eq!(
        d.app.client().get(&format!("/kb/{}", k.draft)).await.status,
        404
    );
}

#[actix_web::test]
async fn this_solved_it_is_counted_in_the_reports_and_starts_no_chat() {
    let k = kb().await;
    let d = &k.desk;
    let solved = |id: String, group: String| {
        let c = d.app.client();
        async move {
            c.post(
                &format!("/api/visitor/articles/{id}/solved"),
                json!({"group": group}),
            )
            .await
        }
    };
    assert_eq!(solved(k.returns.clone(), d.group.clone()).await.status, 204);
    assert_eq!(solved(k.returns.clone(), d.group.clone()).await.status, 204);
    let r = solved(k.draft.clone(), d.group.clone()).await;
    assert_eq!(
        (r.status, r.code()),
        (404, "article_not_found"),
        "not a draft"
    );
    let r = solved(k.shipping.clone(), d.group.clone()).await;
    assert_eq!(r.status, 404, "not another group's article");
    let rep = d.owner.get("/api/reports?days=1").await;
    assert_eq!(rep.json["total"]["solved_by_article"], 2, "{}", rep.text);
    assert_eq!(rep.json["total"]["chats"], 0);
    let support = rep.json["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["group"] == d.group.as_str())
        .unwrap()
        .clone();
    assert_eq!(support["solved_by_article"], 2);
    assert_eq!(
        d.owner.get("/api/chats?scope=group").await.json["total"],
        0,
        "no chat started"
    );
}

#[actix_web::test]
async fn staff_read_what_their_role_allows_and_admins_write() {
    let k = kb().await;
    let d = &k.desk;
    let (ann, _) = d
        .app
        .staff(&d.owner, "ann@example.com", "agent", &[&d.group])
        .await;
    let list = ann.get("/api/articles").await;
    assert_eq!(list.status, 200, "{}", list.text);
    assert_eq!(
        titles(&list.json),
        [
            "Opening hours",
            "Returnera en vattenkokare",
            "Returning a kettle"
        ],
        "published, of her group or none, by title"
    );
    let found = ann.get("/api/articles?q=refunded%20kettles").await;
    assert!(!found.text.contains(&k.draft), "{}", found.text);
    assert_eq!(
        found.json["articles"][0]["id"],
        k.returns.as_str(),
        "{}",
        found.text
    );
    assert!(found.json["articles"][0]["link"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/kb/{}", k.returns)));
    let admin = d.owner.get("/api/articles?q=refund%20policy").await;
    assert_eq!(
        admin.json["articles"][0]["id"],
        k.draft.as_str(),
        "admins find drafts"
    );
    assert_eq!(
        ann.get(&format!("/api/articles/{}", k.draft)).await.status,
        404
    );
    assert_eq!(
        ann.get(&format!("/api/articles/{}", k.shipping))
            .await
            .status,
        404
    );
    let one = ann.get(&format!("/api/articles/{}", k.returns)).await;
    assert!(
        one.json["html"].as_str().unwrap().contains("<strong>"),
        "{}",
        one.text
    );
    for (method, path, body) in [
        (
            "POST",
            "/api/articles".to_string(),
            json!({"title": "Mine", "body": "x"}),
        ),
        (
            "PATCH",
            format!("/api/articles/{}", k.returns),
            json!({"title": "Mine"}),
        ),
        (
            "DELETE",
            format!("/api/articles/{}", k.returns),
            json!(null),
        ),
    ] {
        let r = ann.call(method, &path, body).await;
        assert_eq!(r.status, 403, "{method} {path}: {}", r.text);
    }
    assert_eq!(d.app.client().get("/api/articles").await.status, 401);
    let long = ann
        .get(&format!("/api/articles?q={}", "x".repeat(501)))
        .await;
    assert_eq!(
        (long.status, long.code()),
        (400, "invalid_field"),
        "{}",
        long.text
    );

    // Publishing a draft makes it a suggestion; deleting an article ends it.
    let r = d
        .owner
        .patch(
            &format!("/api/articles/{}", k.draft),
            json!({"published": true, "group": null}),
        )
        .await;
    assert_eq!(
        (r.status, &r.json["published"]),
        (200, &json!(true)),
        "{}",
        r.text
    );
    let s = suggest(d, &d.group, "refund policy").await;
    assert_eq!(s["articles"][0]["id"], k.draft.as_str(), "{s}");
    assert_eq!(
        d.owner
            .delete(&format!("/api/articles/{}", k.draft))
            .await
            .status,
        204
    );
    assert!(!suggest(d, &d.group, "refund policy")
        .await
        .to_string()
        .contains(&k.draft));
    assert_eq!(
        d.owner
            .delete(&format!("/api/articles/{}", k.draft))
            .await
            .status,
        404
    );

    // Bad input says what to fix.
    for (body, field) in [
        (json!({"title": "", "body": "x"}), "title"),
        (
            json!({"title": "T", "body": "x", "tags": ["two words"]}),
            "tags",
        ),
        (
            json!({"title": "T", "body": "x", "language": "xx"}),
            "language",
        ),
        (json!({"title": "T", "body": "   "}), "body"),
    ] {
        let r = d.owner.post("/api/articles", body.clone()).await;
        assert_eq!(r.status, 400, "{body}: {}", r.text);
        assert!(r.text.contains(field), "{body}: {}", r.text);
    }
    let r = d
        .owner
        .post(
            "/api/articles",
            json!({"title": "T", "body": "x", "group": "0192f1e4-7c2a-7b3e-9a51-3f0c2d8e4b10"}),
        )
        .await;
    assert_eq!((r.status, r.code()), (404, "group_not_found"));
    let p = d
        .owner
        .post(
            "/api/articles/preview",
            json!({"body": "*hi* <img src=x onerror=alert(1)>"}),
        )
        .await;
    assert_eq!(p.status, 200);
    assert!(
        p.json["html"].as_str().unwrap().contains("<em>hi</em>") && !p.text.contains("onerror")
    );
}

#[actix_web::test]
async fn a_lost_index_is_rebuilt_from_the_store_at_the_next_start() {
    let k = kb().await;
    let returns = k.returns.clone();
    let dir = k.desk.app.stop().await;
    let data = dir.path().join("data");
    std::fs::remove_dir_all(data.join("search-articles")).expect("the index is in the data folder");
    let (again, owner) = restart_on(&data).await;
    let found = owner.get("/api/articles?q=ketle").await;
    assert_eq!(
        found.json["articles"][0]["id"],
        returns.as_str(),
        "{}",
        found.text
    );
    again.stop().await.expect("stop");
}

/// Screenshots of the widget at 1280×800 and 375×667, axe-core on both.
async fn widget_shots(b: &fantoccini::Client, axe_js: &Option<String>, name: &str) {
    use crate::browser::{axe, screenshot};
    axe(b, axe_js, name).await;
    screenshot(b, &format!("widget-{name}-wide")).await;
    b.set_window_size(375, 667).await.unwrap();
    actix_web::rt::time::sleep(std::time::Duration::from_millis(150)).await;
    screenshot(b, &format!("widget-{name}-phone")).await;
    axe(b, axe_js, &format!("{name} (phone)")).await;
    b.set_window_size(1280, 800).await.unwrap();
}

#[actix_web::test]
async fn the_widget_suggests_articles_before_the_chat_and_this_solved_it_starts_none() {
    use crate::browser::*;
    use crate::workspace::until_js;
    let Some((driver_path, chromium)) = browser_paths() else {
        return;
    };
    let _turn = ONE_BROWSER_TEST.lock().await;
    let axe_js = axe_source();
    let k = kb().await;
    let d = &k.desk;
    let (mut ann, _) = d.agent("Ann", 3).await;
    let (_driver, _profile, b) = headless(&driver_path, &chromium).await;
    b.goto(&format!("{}/chat?groups={}", d.app.base, d.group))
        .await
        .unwrap();
    until_js(
        &b,
        "document.body.dataset.ready === 'true'",
        "the panel is ready",
    )
    .await;
    type_into(&b, "#f-name", "Vera").await;
    type_into(&b, "#f-question", "How do I retrun my ketle?").await;
    click(&b, "#f-start").await;
    wait_text(&b, "#kb-list .kb-item", "Returning a kettle").await;
    let listed = b
        .execute(
            "return [...document.querySelectorAll('.kb-item strong')].map(e => e.textContent)",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(listed[0], json!("Returning a kettle"), "{listed}");
    assert!(!listed.to_string().contains("draft"), "{listed}");
    widget_shots(&b, &axe_js, "kb-suggestions").await;

    // The visitor reads it and says it solved the problem: no chat.
    click(&b, "#kb-list .kb-item").await;
    wait_text(&b, "#kb-body", "Send the kettle back").await;
    let safe = b
        .execute("return [window.x === undefined, !!document.querySelector('#kb-body strong'), document.querySelectorAll('#kb-body script').length]", vec![])
        .await
        .unwrap();
    assert_eq!(safe, json!([true, true, 0]), "markup rendered, no script");
    // The panel's own allow-list holds even for HTML the desk did not clean.
    let copied = b
        .execute_async(
            "const done = arguments[arguments.length - 1];
             import('/assets/shared/dom.js').then((m) => {
               const d = document.createElement('div');
               m.setArticleHtml(d, '<p onclick=\"x()\" style=\"color:red\">Hi <b>there</b></p><img src=x onerror=\"window.__y=1\"><a href=\"javascript:alert(1)\">bad</a><a href=\"https://shop.example/\">ok</a><script>window.__y=2</script><iframe src=\"https://x\"></iframe>');
               setTimeout(() => done([d.innerHTML, window.__y === undefined]), 50);
             });",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        copied,
        json!([
            "<p>Hi <b>there</b></p><img><a>bad</a><a href=\"https://shop.example/\" target=\"_blank\" rel=\"noopener noreferrer\">ok</a>",
            true
        ]),
        "only allow-listed tags and attributes are copied"
    );
    widget_shots(&b, &axe_js, "kb-article").await;
    click(&b, "#kb-solved").await;
    wait_text(&b, "#kb-thanks", "Glad it helped").await;
    assert_eq!(d.owner.get("/api/chats?scope=group").await.json["total"], 0);
    let rep = d.owner.get("/api/reports?days=1").await;
    assert_eq!(rep.json["total"]["solved_by_article"], 1, "{}", rep.text);
    widget_shots(&b, &axe_js, "kb-solved").await;

    // Another question: past the suggestions to the chat, question kept.
    click(&b, "#kb-new-chat").await;
    let name = b
        .execute("return document.querySelector('#f-name').value", vec![])
        .await
        .unwrap();
    assert_eq!(name, json!("Vera"), "the name is kept");
    type_into(&b, "#f-question", "My kettle refund?").await;
    click(&b, "#f-start").await;
    el(&b, "#kb-list").await;
    click(&b, "#kb-chat").await;
    let offer = ann.until(|f| f["type"] == "offer").await;
    assert_eq!(offer["chat"]["question"], "My kettle refund?", "{offer}");
    let _ = b.close().await;
}

#[actix_web::test]
async fn admins_write_articles_in_the_console_with_a_live_preview() {
    use crate::browser::*;
    use crate::workspace::{shots, until_js};
    let Some((driver_path, chromium)) = browser_paths() else {
        return;
    };
    let _turn = ONE_BROWSER_TEST.lock().await;
    let axe_js = axe_source();
    let k = kb().await;
    let d = &k.desk;
    let (_driver, _profile, b) = headless(&driver_path, &chromium).await;
    sign_in(&b, &d.app.base, OWNER_EMAIL, OWNER_PASSWORD).await;
    click(&b, "#nav a[data-view=articles]").await;
    wait_text(&b, "#articles-table", "Returning a kettle").await;
    wait_text(&b, "#articles-table", "Draft").await;
    type_into(&b, "#articles-search", "retrun ketle").await;
    wait_text(
        &b,
        "#articles-table tbody tr:first-child",
        "Returning a kettle",
    )
    .await;
    shots(&b, &axe_js, "articles").await;

    click(&b, "#article-new").await;
    type_into(&b, "#article-title", "Descaling <b>a</b> kettle").await;
    type_into(
        &b,
        "#article-body",
        "Use **vinegar** and water.\n\n<img src=x onerror=window.__xss=1>",
    )
    .await;
    wait_text(&b, "#article-preview strong", "vinegar").await;
    click(&b, "#article-published").await;
    click(&b, "#article-save").await;
    until_js(
        &b,
        "/^#\\/articles\\/[0-9a-f-]{36}$/.test(location.hash)",
        "the saved article opens",
    )
    .await;
    let ran = b
        .execute("return [window.__xss === undefined, document.querySelectorAll('#article-preview [onerror], #article-preview b').length]", vec![])
        .await
        .unwrap();
    assert_eq!(ran, json!([true, 0]), "no markup ran or became elements");
    wait_text(&b, "#article-preview strong", "vinegar").await;
    let kept = b
        .execute(
            "return document.querySelector('#article-body').value",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        kept.as_str().unwrap().starts_with("Use **vinegar**"),
        "the saved text is in the editor: {kept}"
    );
    shots(&b, &axe_js, "article-editor").await;
    let s = suggest(d, &d.group, "how to descale a kettle with vinegar").await;
    assert_eq!(
        s["articles"][0]["title"], "Descaling <b>a</b> kettle",
        "{s}"
    );
    let _ = b.close().await;
}

#[actix_web::test]
async fn an_agent_sends_an_articles_link_from_the_chat_window_in_one_click() {
    use crate::browser::*;
    use crate::workspace::{choose, shots};
    let Some((driver_path, chromium)) = browser_paths() else {
        return;
    };
    let _turn = ONE_BROWSER_TEST.lock().await;
    let axe_js = axe_source();
    let k = kb().await;
    let d = &k.desk;
    d.app
        .staff(&d.owner, "ann@example.com", "agent", &[&d.group])
        .await;
    let (_driver, _profile, b) = headless(&driver_path, &chromium).await;
    sign_in(&b, &d.app.base, "ann@example.com", "staff password 1").await;
    el(&b, "#status-switch").await;
    choose(&b, "#status-switch", "available").await;
    let (_chat, token) = d
        .start_chat("Vera", "Can I get a refund for my kettle?")
        .await;
    click(&b, "#offer-accept").await;
    click(&b, "#compose-articles").await;
    // The visitor's question is the first search.
    wait_text(&b, "#kb-results .kb-result", "Returning a kettle").await;
    let listed = b
        .execute(
            "return document.querySelector('#kb-results').textContent",
            vec![],
        )
        .await
        .unwrap();
    assert!(!listed.to_string().contains("draft"), "{listed}");
    shots(&b, &axe_js, "articles-dialog").await;
    click(&b, "#kb-results .kb-result button").await;
    wait_text(&b, "#thread", "Returning a kettle: http").await;
    let mut vera = Ws::visitor(&d.app, &token, 0).await;
    let link = format!("/kb/{}", k.returns);
    let got = vera
        .until(|f| {
            f["type"] == "message"
                && f["message"]["body"]
                    .as_str()
                    .is_some_and(|b| b.contains(&link))
        })
        .await;
    assert!(
        got["message"]["body"]
            .as_str()
            .unwrap()
            .starts_with("Returning a kettle: http"),
        "{got}"
    );
    let _ = b.close().await;
}
