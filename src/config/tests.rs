use super::*;

fn from_text(text: &str) -> Result<Config, ConfigError> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("livedesk.toml");
    std::fs::write(&path, text).expect("write");
    load(&Sources {
        file: Some(path),
        ..Sources::default()
    })
}

fn problems(text: &str) -> Vec<String> {
    match from_text(text) {
        Err(ConfigError::Invalid(p)) => p
            .iter()
            .map(|p| {
                let mut s = p.to_string();
                // Drop the temporary path, keep line:column.
                if let Some(i) = s.find("livedesk.toml:") {
                    s = s[i + "livedesk.toml:".len()..].to_string();
                }
                s
            })
            .collect(),
        other => panic!("expected problems, got {other:?}"),
    }
}

#[test]
fn the_documented_file_is_exactly_the_defaults() {
    let c = load(&Sources::default()).expect("embedded default parses");
    assert_eq!(c, Config::default());
}

#[test]
fn the_documented_file_sets_every_key_of_the_schema() {
    let doc: toml::Table = toml::from_str(EMBEDDED_DEFAULT).expect("toml");
    for (section, keys) in file::SCHEMA {
        let table = doc
            .get(*section)
            .and_then(|t| t.as_table())
            .unwrap_or_else(|| panic!("[{section}] missing from config/livedesk.toml"));
        for key in *keys {
            assert!(
                table.contains_key(*key),
                "{section}.{key} is not documented"
            );
        }
        assert_eq!(
            table.len(),
            keys.len(),
            "[{section}] has keys the schema lacks"
        );
    }
    assert_eq!(doc.len(), file::SCHEMA.len());
}

#[test]
fn every_problem_is_reported_with_its_line_and_column() {
    let p = problems("[server]\nlisten = \"nowhere\"\nworkers = \"two\"\n\n[auth]\nsession_idle_timeout = \"soon\"\nlistne = 1\n");
    assert_eq!(p.len(), 4, "{p:#?}");
    assert!(
        p[0].starts_with("2:10: server.listen: expected an address"),
        "{}",
        p[0]
    );
    assert!(
        p[1].starts_with("3:11: server.workers: expected a whole number"),
        "{}",
        p[1]
    );
    assert!(
        p[2].starts_with("6:24: auth.session_idle_timeout: expected a duration"),
        "{}",
        p[2]
    );
    assert!(
        p[3].contains("7:10: auth.listne: unknown key `listne` in [auth]"),
        "{}",
        p[3]
    );
}

#[test]
fn syntax_errors_and_unknown_sections_are_located() {
    let p = problems("[server\nlisten = 1\n");
    assert_eq!(p.len(), 1);
    assert!(p[0].starts_with("1:"), "{}", p[0]);
    let p = problems("[sever]\nlisten = \"127.0.0.1:1\"\n");
    assert!(p[0].contains("unknown section [sever]"), "{}", p[0]);
    let p = problems("listen = \"127.0.0.1:1\"\n");
    assert!(p[0].contains("section such as [server]"), "{}", p[0]);
}

#[test]
fn unreadable_file_is_a_clear_error() {
    let e = load(&Sources {
        file: Some("/no/such/livedesk.toml".into()),
        ..Sources::default()
    })
    .unwrap_err();
    assert!(e
        .to_string()
        .contains("cannot read config file /no/such/livedesk.toml"));
}

#[test]
fn environment_beats_file_and_flags_beat_environment() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("c.toml");
    std::fs::write(
        &path,
        "[server]\nlisten = \"127.0.0.1:1000\"\nworkers = 3\n",
    )
    .expect("write");
    let mut sources = Sources {
        file: Some(path),
        env: vec![
            ("LIVEDESK__SERVER__LISTEN".into(), "127.0.0.1:2000".into()),
            ("LIVEDESK__STORAGE__DATA_DIR".into(), "/data".into()),
            ("LIVEDESK__CHAT__MAX_MESSAGE_CHARS".into(), "500".into()),
            ("UNRELATED".into(), "x".into()),
        ],
        ..Sources::default()
    };
    let c = load(&sources).expect("valid");
    assert_eq!(c.server.listen.port(), 2000);
    assert_eq!(c.server.workers, 3);
    assert_eq!(c.storage.data_dir, PathBuf::from("/data"));
    assert_eq!(c.chat.max_message_chars, 500);
    sources.listen = Some("127.0.0.1:3000".into());
    sources.data_dir = Some("/other".into());
    let c = load(&sources).expect("valid");
    assert_eq!(c.server.listen.port(), 3000);
    assert_eq!(c.storage.data_dir, PathBuf::from("/other"));
}

#[test]
fn bad_environment_and_flags_are_named() {
    let e = load(&Sources {
        env: vec![
            ("LIVEDESK__SERVER__LISTN".into(), "x".into()),
            ("LIVEDESK__AUTH__LOGIN_BASE_DELAY".into(), "forever".into()),
        ],
        listen: Some("bad".into()),
        ..Sources::default()
    })
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("environment variable LIVEDESK__SERVER__LISTN: server.listn: unknown key"),
        "{e}"
    );
    assert!(
        e.contains("environment variable LIVEDESK__AUTH__LOGIN_BASE_DELAY"),
        "{e}"
    );
    assert!(
        e.contains("command-line flag --listen: server.listen"),
        "{e}"
    );
}

#[test]
fn cross_key_rules_are_checked() {
    let p = problems("[auth]\nsession_idle_timeout = \"1d\"\nsession_max_lifetime = \"1h\"\n");
    assert_eq!(
        p,
        vec!["auth.session_idle_timeout must not be longer than auth.session_max_lifetime"]
    );
}

#[test]
fn durations_parse_their_units() {
    use file::parse_duration as d;
    assert_eq!(d("500ms"), Some(Duration::from_millis(500)));
    assert_eq!(d("30s"), Some(Duration::from_secs(30)));
    assert_eq!(d("15m"), Some(Duration::from_secs(900)));
    assert_eq!(d("2h"), Some(Duration::from_secs(7200)));
    assert_eq!(d("7d"), Some(Duration::from_secs(604_800)));
    for bad in [
        "",
        "s",
        "10",
        "10x",
        "-1s",
        "0s",
        "1.5h",
        "99999999999999999999d",
    ] {
        assert_eq!(d(bad), None, "{bad}");
    }
}

#[test]
fn public_url_is_derived_from_listen_when_empty() {
    let mut c = Config::default();
    assert_eq!(c.public_url(), "http://127.0.0.1:8080");
    c.server.listen = "0.0.0.0:9000".parse().expect("addr");
    assert_eq!(c.public_url(), "http://127.0.0.1:9000");
    c.server.public_url = "https://chat.example.com/".into();
    assert_eq!(c.public_url(), "https://chat.example.com");
    assert!(c.cookies_secure());
}

#[test]
fn the_packaged_config_differs_from_the_documented_one_only_in_its_data_folder() {
    let packaged = include_str!("../../packaging/deb/livedesk.toml");
    let differing: Vec<(&str, &str)> = EMBEDDED_DEFAULT
        .lines()
        .zip(packaged.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(
        differing,
        vec![(
            "data_dir = \"./livedesk-data\"",
            "data_dir = \"/var/lib/livedesk\""
        )]
    );
    assert_eq!(EMBEDDED_DEFAULT.lines().count(), packaged.lines().count());
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("livedesk.toml");
    std::fs::write(&path, packaged).expect("write");
    let c = load(&Sources {
        file: Some(path),
        ..Sources::default()
    })
    .expect("valid");
    assert_eq!(c.storage.data_dir, PathBuf::from("/var/lib/livedesk"));
}

mod properties {
    use super::super::{file, Config, Origin};
    use proptest::prelude::*;

    fn known_key() -> impl Strategy<Value = (String, String)> {
        let pairs: Vec<(String, String)> = file::SCHEMA
            .iter()
            .flat_map(|(s, keys)| keys.iter().map(|k| (s.to_string(), k.to_string())))
            .collect();
        proptest::sample::select(pairs)
    }

    /// TOML values of every kind, valid or not for the key they meet.
    fn toml_value() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<i64>().prop_map(|i| i.to_string()),
            any::<bool>().prop_map(|b| b.to_string()),
            any::<f64>().prop_map(|f| format!("{f:?}")),
            "[a-zA-Z0-9:./ _-]{0,40}".prop_map(|s| format!("\"{s}\"")),
            "[0-9]{1,6}(ms|s|m|h|d|x|)".prop_map(|s| format!("\"{s}\"")),
            "\\PC{0,20}".prop_map(|s| format!("{s:?}")),
            Just("[1, 2]".to_string()),
            Just("{ a = 1 }".to_string()),
            "\\PC{0,20}",
        ]
    }

    fn lines_ok(problems: &[super::super::Problem], lines: usize) -> Result<(), TestCaseError> {
        for p in problems {
            prop_assert!(!p.message.is_empty());
            if let Origin::File { line, column, .. } = p.origin {
                prop_assert!((1..=lines.max(1) + 1).contains(&line), "{p}");
                prop_assert!(column >= 1, "{p}");
            }
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn any_text_as_the_config_file_gives_settings_or_problems(text in "\\PC{0,300}") {
            let problems = file::apply_document(&mut Config::default(), "t.toml", &text);
            lines_ok(&problems, text.lines().count())?;
        }

        #[test]
        fn any_value_for_any_key_is_taken_or_explained_at_its_line(
            (section, key) in known_key(),
            value in toml_value(),
        ) {
            let text = format!("# a comment\n[{section}]\n{key} = {value}\n");
            let problems = file::apply_document(&mut Config::default(), "t.toml", &text);
            lines_ok(&problems, 3)?;
        }

        #[test]
        fn any_environment_value_is_taken_or_explained(
            (section, key) in known_key(),
            value in "\\PC{0,40}",
        ) {
            let name = format!("LIVEDESK__{}__{}", section.to_uppercase(), key.to_uppercase());
            for p in file::apply_env(&mut Config::default(), &[(name.clone(), value)]) {
                prop_assert!(p.to_string().contains(&name), "{p}");
            }
        }
    }
}

#[test]
fn a_backup_schedule_must_parse_and_fire() {
    let p = problems("[backup]\nschedule = \"every night\"\nkeep = 0\n");
    assert_eq!(p.len(), 2, "{p:?}");
    assert!(
        p[0].starts_with("2:12: backup.schedule: expected a cron line with seconds"),
        "{p:?}"
    );
    assert!(
        p[1].starts_with("3:8: backup.keep: must be between 1 and 1000"),
        "{p:?}"
    );
    let p = problems("[backup]\nschedule = \"0 0 0 30 2 *\"\n");
    assert!(p[0].contains("never fires"), "{p:?}");
    let c = from_text("[backup]\nschedule = \"\"\nfolder = \"/mnt/backups\"\n").expect("valid");
    assert_eq!(
        (c.backup.schedule.as_str(), c.backup_folder()),
        ("", "/mnt/backups".into())
    );
}

#[test]
fn widget_origins_are_checked_and_normalized() {
    let p = problems("[widget]\nallowed_origins = [\"https://shop.example.com/\", \"*\"]\n");
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(
        p[0].starts_with(
            "2:19: widget.allowed_origins: \"https://shop.example.com/\" is not a web origin"
        ),
        "{p:?}"
    );
    let c = from_text(
        "[widget]\nallowed_origins = [\"https://Shop.Example.com\", \"http://localhost:3000\"]\n",
    )
    .expect("valid");
    assert_eq!(
        c.widget.allowed_origins,
        vec![
            "https://shop.example.com".to_string(),
            "http://localhost:3000".to_string()
        ]
    );
}

#[test]
fn shifts_and_closed_dates_in_the_file_are_read_and_their_problems_located() {
    let c = from_text(
        "[[shifts]]\nname = \"Morning\"\ndays = [\"mon\", \"Tue\"]\nstart = \"8:00\"\nend = \"16:00\"\nzone = \"Europe/Stockholm\"\nagents = [\"ann@example.com\"]\ngroups = [\"Support\"]\n\n[[closed]]\ngroup = \"Support\"\ndate = \"2026-12-24\"\nnote = \"Christmas Eve\"\n",
    )
    .expect("parses");
    let s = &c.schedule.shifts[0];
    assert_eq!((s.rule.start.as_str(), s.rule.days.len()), ("08:00", 2));
    assert_eq!(
        (s.agents.clone(), s.groups.clone()),
        (
            vec!["ann@example.com".to_string()],
            vec!["Support".to_string()]
        )
    );
    assert!(s.at.ends_with(":1") || s.at.ends_with(":2"), "{}", s.at);
    assert_eq!(
        c.schedule.closed[0].date.note.as_deref(),
        Some("Christmas Eve")
    );

    let p = problems(
        "[server]\nworkers = 1\n\n[[shifts]]\nname = \"Night\"\ndays = [\"mon\"]\nstart = \"22:00\"\nend = \"22:00\"\nzone = \"Mars/Base\"\ngroups = [\"Support\"]\nwhen = 1\n\n[[closed]]\ngroup = \"Support\"\ndate = \"2026-02-30\"\n",
    );
    let joined = p.join("\n");
    assert!(
        joined.contains("8:7: shifts.end: equals the start"),
        "{joined}"
    );
    assert!(joined.contains("9:8: shifts.zone:"), "{joined}");
    assert!(
        joined.contains("11:8: unknown key `when` in [[shifts]]"),
        "{joined}"
    );
    assert!(joined.contains("15:8: closed.date:"), "{joined}");
    assert!(
        problems("[shifts]\nname = \"x\"\n")
            .join("")
            .contains("write [[shifts]]"),
        "a single table is explained"
    );
}

#[test]
fn mail_settings_are_checked_where_they_are_written() {
    let p = problems(
        "[mail]\nhost = \"smtp://x\"\ntls = \"ssl\"\nfrom = \"help at example\"\nport = 70000\n",
    );
    assert_eq!(p.len(), 4, "{p:#?}");
    assert!(
        p[0].starts_with("2:8: mail.host: expected a host name"),
        "{}",
        p[0]
    );
    assert!(
        p[1].starts_with("3:7: mail.tls: expected \"starttls\""),
        "{}",
        p[1]
    );
    assert!(
        p[2].starts_with("4:8: mail.from: expected an address"),
        "{}",
        p[2]
    );
    assert!(
        p[3].starts_with("5:8: mail.port: must be between 0 and 65535"),
        "{}",
        p[3]
    );
    let p = problems("[mail]\nhost = \"smtp.example.com\"\nusername = \"desk\"\n");
    assert_eq!(p.len(), 2, "{p:#?}");
    assert!(
        p[0].contains("mail.from must be set when mail.host is"),
        "{}",
        p[0]
    );
    assert!(
        p[1].contains("mail.username and mail.password go together"),
        "{}",
        p[1]
    );
    let c = from_text("[mail]\nhost = \"smtp.example.com\"\ntls = \"tls\"\nfrom = \"Help desk <help@example.com>\"\nusername = \"desk\"\npassword = \"s3cret\"\n")
        .expect("valid");
    assert!(c.mail.is_on());
    assert_eq!((c.mail.port(), c.mail.tls), (465, MailTls::Tls));
    assert!(
        !format!("{:?}", c.mail).contains("s3cret"),
        "the password is never printed"
    );
    assert!(!Config::default().mail.is_on(), "mail is off by default");
    assert_eq!(Config::default().mail.port(), 587);
}
