"""Words that are also census names but are used mostly as ordinary words ("will", "may", "long").

Derived once from spaCy's English lexeme probabilities (spacy-lookups-data): a census first or
last name is listed here when its lower-case form is commoner than its capitalised form and
more frequent than e^-14. Name detection ignores these unless the text itself marks them as a
name (capitalised mid-sentence, or after "my name is").
"""

COMMON_WORDS = frozenset(
    """
aber abide able ache acre acres admire age agent ai aid aide akin al ala alas alert alias all
alla alley alliance ally almond alpha alt alter amend amigo an anchors andra anger angle angles
angry angst anon antes ao ape app apt ar arch area areas arena arenas argue arm armor armour
arms army arnt arrow art artist arts ash ask asta au auch aura autumn avant awe awkward axe ba
babe bachelor back backbone backers bacon bad badger bail bake bald balding ball baller balloon
balls balm ban banana band bang bangs bank banker banks banner banning banter bar bara barb
barber bard bare barefoot bark barley barn baron barren barrier bars barter base bash basil
basket bass batch bath bathe baton batter battle battles be beach beam beams bean beans bear
beard bearded beards bears beat beaver bee been beer beers bees began begin begun bells below
belt belts bench bend bender benders bending bent best better beverage bi bias bidding bien big
bigger bile bill billing bills binder bio bird bitter black blacksmith blade blades bland blank
blanks blaze blazer blazing bleak blend blender bless blessing blew blight blind blinks bliss
blitz block blocker blood bloom blow blower blue blunt blush board boards boast bodily body
bogus bold bolster bolt bond bonds bone boner bones bong bonus book books boom boon boot booth
boots booty booze border borders boring born borne borrow boss both botting bottom bottoms bound
bounds bourbon bourgeois bow bowels bowl bowling box boxer boys brace bracket brah brain brake
branch brand brands bras brass brave breach bread breaker breath breed breeding breeze brew
brick bride bridge bridges bright brighter brightly brilliant brim bring brink brittle bro broad
broaden broccoli broker brood broom brothers brought brow brown brownie bruh brunette brush buck
buckle bucks bud buddy budge bueno buff buggy bull bump bumpers bumps bun bunch bunk bunker
bunny burden burger burn burner burns bury but butcher butt butter button butts buys bye cabal
cable cables cada cage cake call caller cam camel camera camp camper camps campus can canal
cancel cancer candle candy cane cannon canon cap cape car carbine carbon card care cargo
carpenter carrier carry cart carte carton casa case cash cashing casino caso cassette cast
caster castle castles catching cater cave caves cease cellar center centers certain chain chalk
challenger chamber chambers champ champagne champion chance channel chant char charity charm
chars charter chase che cheater check cheek cheeks cheese cherish cherry chess chew chick child
chill chime chin chock choice choo chow church churches churn cinnamon circle citizen city civil
clam clamp clan clap clarity claro class clause claw clay clear clerk clever cliche click client
cliff clock close cloud clubs cluster clutter co coach coast coaster coats cobble cocks code
coffee coffin coil coin coins coke colder collar college colon colony coma come comes comfort
commander comment common commons como comp companion conception condo cone cones conquest cons
console constant converse cook cooks cool cooler cools coop cope copper coral cord cords core
cork corn corner corners corp cos cost cotton couch cough council counter counts coup coupe
courier course court courts cousin cousins cover covert coward cowboy cradle craft crafts cram
cramp crane crank crass crate crater cray craze crazier crease credit crest crew crews crimes
crisp crochet crock crooked cross crouch crow crown cruel cruise crumble crutch crystal cue cuff
cumming cunning curb cure curl curling curls curly current custard cutter cutting dad daily dam
dance dancer dandy danger dann dar dare daring dark darling dart das dash dass dates daughters
day days deal dear decent deck deed deeds deem deems deep deer degree deja del delay della demo
demos dense dent deputy der derby desire dessert deter devoid dia dial diamond dice dick dicks
dies diesel din ding dire diss distance ditch diver divers divine do dock doctor dodge doe doing
dole doll dollar dolphin dom dome donate done dong door dose dot double dove down downer downs
draft drafts dragon drain dress dresser drew dries drilling driver drivers drone drones drop
drought drown drum drummer dry dryer du dub dubs duck ducking due duel dues duh dull dun dunk
during durr dust dusty duty dye eager ear early earnest echo economy ed edge ego el elders eller
else em emo end ends enter era escort esque esta even evens every expose eye face factor fail
failing fails fair faire fairly fairy fait faith fake fall fallen falling falls fam fan fare
farm farmer fast faster fat fate faux favor favorite favors fear fearing fears feast feather
feathers fedora fee feeling fees fell felt fend fender ferry fest fetch few fickle field
fielding fields figures file files fill filler fillers filter finder fine finely finer fines
finger fire first fiscal fish fisherman fitting fix flack flair flake flakes flaming flank flash
flatter flavors fleet fleeting flick flicker flies flight fling flirt flock flood floor floss
flow flower flowers fluke fly foil folds folk folks font foot force fore forest forge forget
form forth fortune forward foster fought found fountain fraction frame frames free freed frees
freeze fresh fret fridge fried friend friendly friends fries frisbee from fruit fruits fry fu
fudge fuel fuller funk furnace furry fury fuse fuss gain gains gal gall gallery gallon gals
gamble gamer games gamma gang garden garner garrison gate gates gather gave gay gear gearing
gene general generous genie genre gens gentle gentleman getting gift gin ginger gist given glad
glance glass glaze glee glimpse glory gloss glow go goes goin going gold golden gone goo good
goodness goods goodwill goon gory goth goto gotta govern grace grad grade grain gram grammer
grams grand grande grant grapes grass grave gravel gray green greener greenhouse greet grew grey
grief grieve grill grim grime grinder grip grit groom gross ground grounds grow guard guess
guest guild guise guitar gum gums gun gunner gunning gut gutter guy guys ha hack hacker hacking
hade hai hail hair half hall halls halt ham hamburger hammer hammers hammock han hand handing
handler hands handsome handy hang hanger har harbor hard harder harm harmony harms harness harp
harsh harvest has hash haste hasty hatch hatchet haven hay hazard hazy he head heading heads
heal heap heaps heard hearing heart heater heck hedge hee hefty height heir heist held helm
helper helt hem hemp hence her herb herd heritage hero herring hidden hides hier high hikes hill
hills him hint hire hires hitch hives ho hoard hobby hockey hoe hoes holder holding hole holes
holiday hollow holster home homes hon hone honey honor honour hoo hood hook hooker hooks hoop
hoops hope hopes hopping horde horn horns horse hose host hotter house housemate hover how hubby
hue hug huge huh hull hum human humble hun hung hunger hunt hunter hunting hur hurdle hurry hurt
husband husbands hush husky ice idol ill ima in inch inches ing ink innocent ion ip iron irons
island ja jabs jacks jeans jersey jest jewel job jobs jock journey joy ju judge jumbo jump
jumper jungling junior junk jury just justice ka kale kan kann karma keen keep keepers keto
kettle key keys kick kicker kicks kid kidney kief kill killer killings kin kind kinder kinds
kiss kit kitchen kitchens kite kitten kitty knack knee knife knights knock knows knuckles ko
kommer kool kun la lab labor labs lace lack lacks lacrosse lady lager lair lake lakes lamb lame
lamp lan land landing landmark lands lane lanes laning lard large larger lasagna laser lash last
latch late later lather laughter laundry lava lavender law lawn laws lawyer lax lay layer layman
le leader leaf league leak leaks lean leap learn learned lease leash leather led leech left
legacy leisure lemme lemon lemons lent leopard les less lessen lesser letters level levels lever
levers libel liberty lick lie lied lies lieu life light lighter lightning lights like likes limb
limbo lime line linear lineman linen liner lines linger lingo link links lint lion lips list
listen liter litter little lively living lo loader loan lock locker locks lodge loft lone loner
long longest look loop loose loosen lords lore los lose loser loss lot lotta lotto loud louder
love lovely lover lovin loving low lower lowers loyal lube luck lucky lui lunch lung lust ma
mace macho mad mage mages magic mah mai maid mail main mainland mains mais majestic major majors
maker males mall man mana mane mang mango mania manly manner manners mans mantle manual many
maple marble mark marker market marking marks marrow marry martyr mas mascot mash mask mass
masse master masters mate mater mates math matte matter matters max may mayo mayor maze mc
mcdonalds me mead meager meals mean means mech mechanic medal media median medicine mega mehr
mein mellow melody members memo memory men mention merchant mercy mess messenger messing meta
meter meth metro mi midget mighty mile miles mill million mills min miner miners mines mini
minion minister minor minors mins minus mir miracle mis miss mister mix mixer mo moan mock mode
model modest moe mole mom moment mon monarch money monk monks mons mood moody moon moons moose
morale more morning moron most motto mound mount mountain mounts mourning mouse mow mower much
muck mule mundo murders music must mustache mustard muster my na nada nail nails nanny nap
narrow nation nations naval nay near nearing neat necessary needle needles needs needy negro
neighbor neighbors neighbours neither nephew ness nest net never new newborn newer ng ni nice
nicely nickel niece nigh night nine nip nipple no noble noon noone nose notch notice noun novel
nu null number numbers nurse ny oak oats obey ocean och octave oder odor off offer officer ohm
ohms ok old older olds olive olives on or orange ore ores organ other ou ours outlaw oven over
overall overly ow oz pa pace pack pagan page pages pain painter pair pal paladin pale paleo
pallet palm palms pals pan pancake panda pander pane para paradise parcel pardon parent parents
park parks parody parrot parry part partido party pass passer pastor pat patch patches patience
patient patron patty pax pay payer payment pea peace peach peaches peak peaks pear peasant pee
peed peek peel peeling peer peers peg pellet pen pencil penny people peoples pepper peppers
perfect perks pero person persons petite petty pew pi piano pick picking pickle pickles pickup
pies pigeon pile piles pill pillar pillow pilot pin pinch pine ping pink pipe pipes pitch
pitcher pizza place plain plan plane plank plant plants plaster plate platter player pleasant
pleasure plenty pluck plumber plush po pod poet point pointer points poke pole poles police
polio polite polka poll pollen polo pond ponder pong pool poor pop porch port portal ports post
postal poster pouch pound pounds pour power powers pray prayer precious precise president press
presume pretty prey price pride priest prima prime primer primes printers prior pro profit prom
promise proper prophet prose prosper proto proud province prudent pry public puff pulling pulse
pump pun punch punches punt purchase purple push query quest quick quiet quirk race racer rack
rad radar raid rail railing rain rainbow rains rake ram ramp ran ranch rang range rank ranks
ransom rape rapier rash raspberry rather rave raw rax razor re reach read reader reading ready
real reap rear reason reasons rebel record records red redhead redo redstone reef reeks reel
regen register relic remedies render res resides resto retort reveal rhyme rhymes rice rich
richer riches riddle rider rides riding rife riff right rim ring rings rink ripple rise risen
rising risk rival river roach roads roam robe robes rock rocker rocks rod rode rogue roles roll
roller rolling rolls rom romance roof room root roots ropes roses rough roulette round rounds
route rover row royalty rude rule rung runner running ruse rush rushing rust rusty rye sa saber
sack sacks safe safer sage said sailor sailors sails sake sale sales saliva salmon salon salsa
salt salts salvage salvia sample samples sand sands sane sang sans sat sau sauce save saver sax
say scale scales scarce schon school schooler schooling schools score scrape screen screws scrim
scripture se sea seal seals search season seat seats second section see seed seeds seek seen
sees sein self sell seller sellers sells semen sen sender senior sens sensing sensor ser sermon
serum servant serve server service session sessions setting settle settles sever severe sewer
shack shade shader shadow shady shake shall shallow sham shape share shark sharp sharper shave
shear shed sheer sheets shell shelling shells shelter sheriff shield shields shill shin shine
shines ship shirts shiver shivers shock shoe shook shore short shorten shorter shorts shoulder
shoulders shouts shove show showers shown shows shutter shy si sic sick side sides signs silence
silk silver sim simmer simple simpler sin sine sing singer single sings sink sinks sinner sins
siren sis sit sites sitter six skates skill slack slain slate slaughter slay sleek sleeper slice
slick slider slight slim slimmer slot sly smack small smaller smart smiles smiley smiling smoke
smoker snare snide sniff snipe snow snowball so sober socks soda solar sole soles solid solo som
son song sons soo soon sorrow sour sous southern sovereign sow space spade span spare spark
sparks speak speaker speaks spear spears speed speedy spell spells spice spies spike spikes
spine splinter spoon sport sports spotted spray spring springs sprinkle sprung square stable
stabs stack stacks staff stage stain stains stair stairs stake stakes stalker stall stalling
stalls stamp stamps standard standing stands staple staples star starch stare starring stars
start startup stash state states station stay steady steel steep steer stem stencil step stern
stick sticker stiff still stills stitch stock stocking stocks stole stone stoner stones stoop
stops storage store stores storm storms story stout stove straight strain strait strand strange
stranger straw strawberry straws stray stream streams street streets strength stretch stride
strife strike striker string stroll strong struck stuck student study stump sturdy style styles
su sub such sudo sue sugar suing suit suite suits sum summer summers summons sun sung sunny
sunshine super sur surface surgeon surprise swallow swam swamp swarm sweat sweep sweet sweets
swell swim swimmer swing sword swords ta tables tack tad tag tags tail tailor taker takes talent
talk tall tally tan tango tank tanks tape taper taps tart tat te tea teach tear teas tease tee
tees tell teller temp temple temples ten tenant tener tennis tent tequila terrible test tester
than thee them then thier thong thrash threat threats thrift thrill throne thy tick tickle tier
tiger till tilt times tin tinker tiny tipping to tobacco toda toll ton tone toner tones tongue
tonic tonne too tools toon top topping toppings torn torrent touch tout tow towels tower towers
town towns toy trace trader trail train trainer traverse treasure treat trees trench trend tri
trial tribe trick trim trio troll troop trucks true truly trump trumps trunk trusty try tu tuck
tune tuner tuning turns turtle tutor tweet twist ty uber uk un una unavailable union uno uphold
upp upright ur urban us utter va van vanish vara vas ve veil vein vent venture ver verge vessel
vessels vest veto vi via vial vice victory vida view vigilante vil vile ville vine vinegar vines
virgin virtue vis visor vital voice von vote voter vowels vu wack waffle wage wager wages wagon
wah wait waiters waits wake walk walkers walking walks wall wallet walls wand wander wanders
wank wanker want war ward warlock warm warn warning warp warrior wary wash washer washing wasp
watcher water waterfall waters watt watts wave wax way ways wear wearing wears weary weasel
weather weaving wedding wedge wee weed weekly weeks weight welcome weld welding well went
western whack wheat while whistle white whites wholly why wick wide widen wider wiener wig wild
will willing wills willy win wind windy wine wines wing winger wings wink winner winners winning
wins winter winters wire wires wisdom wise wisely wiser wish witty wolf women won wonder wonders
wood wooden woods wool word work worker workings works world worlds worm worn worst worth worthy
wrench wrinkles writer ya yard yarn yawn ye yeast yell yellow yen yer yo you youd young younger
zone
""".split()
)
