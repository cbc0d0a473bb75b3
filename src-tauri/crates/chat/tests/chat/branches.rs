//! Regenerating and editing make branches; the store keeps every one.

use gemma_desk_chat::ChatEvent;
use gemma_desk_store::{MessageStatus, Role};
use libtest_mimic::Trial;

use crate::{Fixture, greedy, trial};

pub fn tests() -> Vec<Trial> {
    vec![
        trial("regenerate_adds_a_sibling_reply", regenerate_adds_a_sibling_reply),
        trial("edit_adds_a_sibling_question_and_answers_it", edit_adds_a_sibling_question_and_answers_it),
    ]
}

async fn regenerate_adds_a_sibling_reply() {
    let fixture = Fixture::loaded().await;
    let conversation = fixture.conversation(None).await;
    let first = fixture.chat.send(conversation.id, "Name a fruit.", &greedy(10), |_| {}).await.unwrap();
    let mut events = Vec::new();
    let again = fixture.chat.regenerate(first.id, &greedy(10), |e| events.push(e)).await.unwrap();
    assert!(matches!(&events[0], ChatEvent::Started { user: None, .. }), "regenerating stores no new question");
    assert_eq!(again.parent_id, first.parent_id);
    assert_eq!(again.content, first.content, "greedy decoding gives the same reply again");
    assert_eq!(again.status, MessageStatus::Done);

    let store = fixture.chat.store();
    let branch = store.current_branch(conversation.id).await.unwrap();
    let last = branch.last().unwrap();
    assert_eq!((last.message.id, last.sibling_index, last.sibling_count), (again.id, 2, 2));
    assert_eq!(store.siblings(again.id).await.unwrap(), [first.id, again.id]);
}

async fn edit_adds_a_sibling_question_and_answers_it() {
    let fixture = Fixture::loaded().await;
    let conversation = fixture.conversation(None).await;
    let chat = &fixture.chat;
    chat.send(conversation.id, "Name a fruit.", &greedy(6), |_| {}).await.unwrap();
    let reply = chat.send(conversation.id, "Name a tree.", &greedy(6), |_| {}).await.unwrap();
    let question = reply.parent_id.unwrap();

    let edited = chat.edit(question, "Name a river.", &greedy(6), |_| {}).await.unwrap();
    let store = chat.store();
    let branch = store.current_branch(conversation.id).await.unwrap();
    let texts: Vec<_> = branch.iter().map(|m| (m.message.role, m.message.content.as_str())).collect();
    assert_eq!(texts.len(), 4);
    assert_eq!(texts[2], (Role::User, "Name a river."));
    assert_eq!(branch[2].sibling_count, 2);
    assert_eq!(branch[3].message.id, edited.id);

    store.switch_branch(conversation.id, question, gemma_desk_chat::now()).await.unwrap();
    let old = store.current_branch(conversation.id).await.unwrap();
    assert_eq!(old.last().unwrap().message.id, reply.id, "the old branch is still there");
}
