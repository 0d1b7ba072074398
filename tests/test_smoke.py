def test_developer_reads_own_skill(client, make, bearer):
    developer = make.developer(tier="standard")
    skill = make.skill(developer)
    user = make.user()
    make.consent(user, skill)
    make.interaction(skill, user, utterance="call me at 555-867-5309")
    creds = make.client(developer_id=developer)
    headers = bearer(creds)
    response = client.get(f"/v1/skills/{skill}/interactions", headers=headers)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert len(body["interactions"]) == 1
    assert "555" not in body["interactions"][0]["utterance"]
